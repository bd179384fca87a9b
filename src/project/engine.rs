//! The yearly stock-and-flow step shared by the deterministic projection and the Monte Carlo:
//! one function decides targets, capacity, exits and the gate; only the flows (entries,
//! returns, people ready to exit) differ between the two.

use super::split::{self, Rate, Scratch, SplitError};
use super::{PlanUnit, Projection};
use rust_decimal::Decimal;

/// Why a projection could not be computed (inputs out of the range of exact arithmetic, or a
/// distribution that cannot be drawn from).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProjectError {
    /// An integer split failed.
    #[error("{0}")]
    Split(#[from] SplitError),
    /// A headcount left the range of exact integers.
    #[error("arithmetic overflow in {0}: headcounts too large")]
    Overflow(&'static str),
    /// A random distribution could not be built.
    #[error("cannot draw {what}: {why}")]
    Distribution {
        /// Which flow.
        what: &'static str,
        /// The distribution's own message.
        why: String,
    },
    /// The Monte Carlo would need too much memory.
    #[error("{0}")]
    TooLarge(String),
}

/// How many people flow in and out in a year: exact (deterministic) or drawn (Monte Carlo).
pub trait Flows {
    /// New entries per unit from the start headcounts.
    fn entries(&mut self, rate: &Rate, start: &[u64], out: &mut [u64], scratch: &mut Scratch) -> Result<(), ProjectError>;
    /// Returns per unit from the previous year's exits.
    fn returns(&mut self, rate: &Rate, prev_exits: &[u64], out: &mut [u64], scratch: &mut Scratch) -> Result<(), ProjectError>;
    /// `min(want, people ready to exit out of available)`: only the first `want` ready people
    /// matter, which lets the Monte Carlo skip draws whose outcome is certain.
    fn ready_up_to(&mut self, readiness: &Rate, available: u64, want: u64) -> Result<u64, ProjectError>;
}

/// The deterministic flows: rates applied exactly, in whole people by largest remainder
/// ([`split::apply_rate`]); everyone on file can exit.
#[derive(Debug, Default, Clone, Copy)]
pub struct Exact;

impl Flows for Exact {
    fn entries(&mut self, rate: &Rate, start: &[u64], out: &mut [u64], scratch: &mut Scratch) -> Result<(), ProjectError> {
        Ok(split::apply_rate(rate, start, out, scratch)?)
    }
    fn returns(&mut self, rate: &Rate, prev_exits: &[u64], out: &mut [u64], scratch: &mut Scratch) -> Result<(), ProjectError> {
        Ok(split::apply_rate(rate, prev_exits, out, scratch)?)
    }
    fn ready_up_to(&mut self, _readiness: &Rate, available: u64, want: u64) -> Result<u64, ProjectError> {
        Ok(available.min(want))
    }
}

/// The state of every plan unit during a run, and the flows of the current year.
#[derive(Debug, Clone)]
pub struct State {
    /// Headcount at the start of the year.
    pub start: Vec<u64>,
    /// Exits of the previous year.
    pub prev_exits: Vec<u64>,
    /// Filed people who have exited (`exited_pop` + exits − returns), for the comprehensive
    /// incidence.
    pub exited: Vec<u64>,
    /// This year's entries.
    pub entries: Vec<u64>,
    /// This year's returns.
    pub returns: Vec<u64>,
    /// This year's targets.
    pub target: Vec<u64>,
    /// This year's exits.
    pub exits: Vec<u64>,
    /// Headcount at the end of the year.
    pub end: Vec<u64>,
    /// Part of the province target that no unit could take (all sharing units at 0).
    pub unassigned: u64,
    scratch: Scratch,
    weights: Vec<u64>,
    parts: Vec<u64>,
}

impl State {
    /// The state at the start of the first year.
    pub fn new(p: &Projection) -> State {
        let n = p.units.len();
        State {
            start: p.units.iter().map(|u| u.filed_start).collect(),
            prev_exits: p.units.iter().map(|u| u.prev_exits).collect(),
            exited: p.units.iter().map(|u| u.exited_pop).collect(),
            entries: vec![0; n],
            returns: vec![0; n],
            target: vec![0; n],
            exits: vec![0; n],
            end: vec![0; n],
            unassigned: 0,
            scratch: Scratch::default(),
            weights: Vec::new(),
            parts: Vec::new(),
        }
    }

    /// One year (`k` = year index): entries, returns, targets, `exits = min(target, ready,
    /// capacity)`, `end = start + entries + returns − exits`, exited people updated.
    pub fn step<F: Flows>(&mut self, p: &Projection, k: usize, flows: &mut F) -> Result<(), ProjectError> {
        flows.entries(&p.new_entry_rate, &self.start, &mut self.entries, &mut self.scratch)?;
        flows.returns(&p.return_rate, &self.prev_exits, &mut self.returns, &mut self.scratch)?;
        // own targets, then the residual province target split by start headcount
        for (t, u) in self.target.iter_mut().zip(&p.units) {
            *t = u.targets.get(k).copied().flatten().unwrap_or(0);
        }
        self.unassigned = 0;
        if let (Some(Some(r)), Some(list)) = (p.residual_targets.get(k), p.sharing.get(k)) {
            self.weights.clear();
            self.weights.extend(list.iter().map(|&i| self.start.get(i).copied().unwrap_or(0)));
            self.parts.clear();
            self.parts.resize(list.len(), 0);
            match split::split_proportional(*r, &self.weights, &mut self.parts, &mut self.scratch) {
                Ok(()) => {
                    for (&i, &v) in list.iter().zip(&self.parts) {
                        if let Some(t) = self.target.get_mut(i) {
                            *t = v;
                        }
                    }
                }
                Err(SplitError::NoWeight(x)) => self.unassigned = x,
                Err(e) => return Err(e.into()),
            }
        }
        let rows = self
            .start
            .iter()
            .zip(&self.entries)
            .zip(&self.returns)
            .zip(&self.target)
            .zip(p.units.iter())
            .zip(self.exits.iter_mut().zip(self.end.iter_mut()).zip(self.exited.iter_mut()));
        for (((((start, entries), returns), target), u), ((exits, end), exited)) in rows {
            let available = start
                .checked_add(*entries)
                .and_then(|x| x.checked_add(*returns))
                .ok_or(ProjectError::Overflow("start + entries + returns"))?;
            let cap = u.capacity.get(k).copied().flatten().unwrap_or(u64::MAX);
            let want = (*target).min(cap).min(available);
            *exits = flows.ready_up_to(&p.exit_readiness, available, want)?.min(want);
            *end = available - *exits;
            *exited = exited
                .saturating_sub(*returns)
                .checked_add(*exits)
                .ok_or(ProjectError::Overflow("exited people"))?;
        }
        Ok(())
    }

    /// Moves to the next year: `start = end`, `prev_exits = exits`.
    pub fn advance(&mut self) {
        std::mem::swap(&mut self.start, &mut self.end);
        std::mem::swap(&mut self.prev_exits, &mut self.exits);
    }
}

/// The exit gate of one unit at the end of a year: `end / rural_pop < threshold` (exact:
/// `end < ⌈threshold × rural_pop⌉`) and, with survey samples, comprehensive incidence under
/// the threshold and the three indicators passing ([`super::gate::SurveyGate`]).
pub fn eligible(u: &PlanUnit, end: u64, exited: u64) -> bool {
    if end >= u.incidence_limit {
        return false;
    }
    match &u.survey {
        None => true,
        Some(g) => g.indicators_pass() && g.comprehensive_below(end, exited, u.rural_pop, &u.threshold),
    }
}

/// One row of `projection.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct YearRow {
    /// Headcount at the start of the year.
    pub start: u64,
    /// Newly identified people.
    pub entries: u64,
    /// People who fell back onto the file.
    pub returns: u64,
    /// Exit target.
    pub target: u64,
    /// Exits: `min(target, start + entries + returns, capacity)`.
    pub exits: u64,
    /// `start + entries + returns − exits`.
    pub end: u64,
    /// Rural population.
    pub rural_pop: u64,
    /// `end / rural_pop`.
    pub incidence: Decimal,
    /// Funds from the allocation.
    pub funds: Decimal,
    /// Exits the funds pay for (`None`: not capped).
    pub capacity: Option<u64>,
    /// The exit gate (units only).
    pub eligible: Option<bool>,
    /// `target − exits`.
    pub shortfall: u64,
    /// Comprehensive incidence (units with survey samples).
    pub comprehensive: Option<Decimal>,
    /// Filed people who have exited, at the end of the year.
    pub exited: u64,
}

/// The deterministic projection.
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectionResult {
    /// Per plan unit (as [`Projection::units`]), per year.
    pub units: Vec<Vec<YearRow>>,
    /// Per total (as [`Projection::aggregates`]), per year: sums of their units' rows.
    pub totals: Vec<Vec<YearRow>>,
    /// Per plan unit: the first year it is eligible to exit.
    pub first_eligible: Vec<Option<i64>>,
    /// Per year: province target no unit could take.
    pub unassigned: Vec<u64>,
}

fn ratio(a: u64, b: u64) -> Decimal {
    Decimal::from(a).checked_div(Decimal::from(b)).unwrap_or_default()
}

/// Runs the deterministic projection (see the module documentation of [`super`] for every
/// formula). The identity `end = start + entries + returns − exits` holds on every unit row and
/// every total row, and `end ≥ 0` always.
pub fn project(p: &Projection) -> Result<ProjectionResult, ProjectError> {
    let n = p.units.len();
    let mut st = State::new(p);
    let mut units: Vec<Vec<YearRow>> = vec![Vec::with_capacity(p.n_years()); n];
    let mut unassigned = Vec::with_capacity(p.n_years());
    let mut flows = Exact;
    for k in 0..p.n_years() {
        st.step(p, k, &mut flows)?;
        unassigned.push(st.unassigned);
        for (i, (u, rows)) in p.units.iter().zip(units.iter_mut()).enumerate() {
            let g = |v: &Vec<u64>| v.get(i).copied().unwrap_or(0);
            let (end, exited, target, exits) = (g(&st.end), g(&st.exited), g(&st.target), g(&st.exits));
            rows.push(YearRow {
                start: g(&st.start),
                entries: g(&st.entries),
                returns: g(&st.returns),
                target,
                exits,
                end,
                rural_pop: u.rural_pop,
                incidence: ratio(end, u.rural_pop),
                funds: u.funds.get(k).copied().unwrap_or_default(),
                capacity: u.capacity.get(k).copied().flatten(),
                eligible: Some(eligible(u, end, exited)),
                shortfall: target.saturating_sub(exits),
                comprehensive: u.survey.as_ref().and_then(|s| s.comprehensive(end, exited, u.rural_pop)),
                exited,
            });
        }
        st.advance();
    }
    let first_eligible = units
        .iter()
        .map(|rows| rows.iter().zip(&p.years).find(|(r, _)| r.eligible == Some(true)).map(|(_, y)| *y))
        .collect();
    let mut totals = Vec::with_capacity(p.aggregates.len());
    for ag in &p.aggregates {
        let mut rows = Vec::with_capacity(p.n_years());
        for k in 0..p.n_years() {
            let mut t = YearRow {
                start: 0,
                entries: 0,
                returns: 0,
                target: 0,
                exits: 0,
                end: 0,
                rural_pop: 0,
                incidence: Decimal::ZERO,
                funds: Decimal::ZERO,
                capacity: Some(0),
                eligible: None,
                shortfall: 0,
                comprehensive: None,
                exited: 0,
            };
            for r in ag.members.iter().filter_map(|&i| units.get(i).and_then(|rows| rows.get(k))) {
                let add = |a: u64, b: u64| a.checked_add(b).ok_or(ProjectError::Overflow("totals"));
                t.start = add(t.start, r.start)?;
                t.entries = add(t.entries, r.entries)?;
                t.returns = add(t.returns, r.returns)?;
                t.target = add(t.target, r.target)?;
                t.exits = add(t.exits, r.exits)?;
                t.end = add(t.end, r.end)?;
                t.rural_pop = add(t.rural_pop, r.rural_pop)?;
                t.shortfall = add(t.shortfall, r.shortfall)?;
                t.exited = add(t.exited, r.exited)?;
                t.funds = t.funds.checked_add(r.funds).ok_or(ProjectError::Overflow("total funds"))?;
                t.capacity = match (t.capacity, r.capacity) {
                    (Some(a), Some(b)) => Some(a.saturating_add(b)),
                    _ => None,
                };
            }
            t.incidence = ratio(t.end, t.rural_pop);
            rows.push(t);
        }
        totals.push(rows);
    }
    Ok(ProjectionResult {
        units,
        totals,
        first_eligible,
        unassigned,
    })
}
