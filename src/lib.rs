pub mod x {}
pub mod score;
