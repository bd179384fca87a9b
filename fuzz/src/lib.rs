//! Helpers shared by the fuzz targets: splitting one fuzz input into several files.

/// Separates the files packed into one fuzz input (a line `%%%`).
pub const SEP: &[u8] = b"\n%%%\n";

/// Splits `data` at every [`SEP`]: part 0, part 1, … (no separator → one part).
pub fn split(data: &[u8]) -> Vec<&[u8]> {
    let mut parts = Vec::new();
    let mut rest = data;
    while let Some(i) = rest.windows(SEP.len()).position(|w| w == SEP) {
        parts.push(&rest[..i]);
        rest = &rest[i + SEP.len()..];
    }
    parts.push(rest);
    parts
}
