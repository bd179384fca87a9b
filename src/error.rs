//! Typed errors that say where the problem is: file, line (or TOML key path) and field.
//!
//! Loading never stops at the first problem: every check runs and all problems come back
//! together as [`InputErrors`], so a planner can fix a file in one pass.

use std::fmt;

/// Where in the input a problem was found.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Location {
    /// File name as the user knows it (relative to the scenario folder), e.g. `factors.csv`.
    pub file: String,
    /// 1-based line (CSV, TOML) or row (XLSX), when known.
    pub line: Option<u64>,
    /// Column name or TOML key path, when known.
    pub field: Option<String>,
}

impl Location {
    /// A location naming only a file.
    pub fn file(file: impl Into<String>) -> Self {
        Location {
            file: file.into(),
            line: None,
            field: None,
        }
    }

    /// A location naming a file, a line and a field.
    pub fn at(file: impl Into<String>, line: Option<u64>, field: impl Into<String>) -> Self {
        Location {
            file: file.into(),
            line,
            field: Some(field.into()),
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(field) = &self.field {
            write!(f, ": field `{field}`")?;
        }
        Ok(())
    }
}

/// One problem (or warning) found in the input, with its location.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Diagnostic {
    /// Where.
    pub location: Location,
    /// What is wrong, in words a planner understands, with the allowed range where useful.
    pub message: String,
}

impl Diagnostic {
    /// A new diagnostic.
    pub fn new(location: Location, message: impl Into<String>) -> Self {
        Diagnostic {
            location,
            message: message.into(),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

/// Every problem found while loading or checking the input.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InputErrors(pub Vec<Diagnostic>);

impl InputErrors {
    /// A single problem.
    pub fn one(location: Location, message: impl Into<String>) -> Self {
        InputErrors(vec![Diagnostic::new(location, message)])
    }

    /// Adds a problem.
    pub fn push(&mut self, location: Location, message: impl Into<String>) {
        self.0.push(Diagnostic::new(location, message));
    }

    /// True when no problem was found.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok(value)` when empty, else `Err(self)`.
    pub fn into_result<T>(self, value: T) -> Result<T, InputErrors> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(self)
        }
    }

    /// Moves every problem of `other` into `self`.
    pub fn extend(&mut self, other: InputErrors) {
        self.0.extend(other.0);
    }
}

impl fmt::Display for InputErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "error: {d}")?;
        }
        if n > 1 {
            write!(f, "\n{n} problems found")?;
        }
        Ok(())
    }
}

impl std::error::Error for InputErrors {}

impl From<Diagnostic> for InputErrors {
    fn from(d: Diagnostic) -> Self {
        InputErrors(vec![d])
    }
}
