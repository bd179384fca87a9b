pub mod x {}

pub mod report;
