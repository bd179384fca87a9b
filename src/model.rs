//! Units and their hierarchy (province → cities → counties → villages).

use crate::error::{InputErrors, Location};
use crate::table::Table;
use std::collections::HashMap;

/// One administrative or organisational unit (a row of `units.csv`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    /// Unique id, usually the administrative code (e.g. `620102`).
    pub id: String,
    /// Display name (e.g. 城关区).
    pub name: String,
    /// Index of the parent unit; `None` for the root.
    pub parent: Option<usize>,
    /// Tier name (`province`, `city`, `county`, `village`, or any text).
    pub level: String,
    /// Line in `units.csv`.
    pub line: u64,
}

/// The units as a tree: one root, every parent present, no cycles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hierarchy {
    units: Vec<Unit>,
    index: HashMap<String, usize>,
    children: Vec<Vec<usize>>,
    root: usize,
    /// Each unit's position when all ids are sorted in byte order (sorting by it is sorting
    /// by id, without comparing strings).
    rank: Vec<u32>,
    /// Each unit's level as an index into `levels`.
    level_of: Vec<u32>,
    /// The distinct level names, in order of first appearance.
    levels: Vec<String>,
}

impl Hierarchy {
    /// Builds and checks the hierarchy from `units.csv` (`id,name,parent_id,level`).
    ///
    /// Every problem is reported: missing columns, empty or duplicate ids, unknown parents,
    /// no root or several roots, cycles.
    pub fn from_table(t: &Table) -> Result<Hierarchy, InputErrors> {
        let mut errs = InputErrors::default();
        let cols: Vec<Option<usize>> = ["id", "parent_id", "level"]
            .iter()
            .map(|c| match t.require(c) {
                Ok(i) => Some(i),
                Err(d) => {
                    errs.0.push(d);
                    None
                }
            })
            .collect();
        let (Some(Some(c_id)), Some(Some(c_parent)), Some(Some(c_level))) = (cols.first(), cols.get(1), cols.get(2)) else {
            return Err(errs);
        };
        let (c_id, c_parent, c_level) = (*c_id, *c_parent, *c_level);
        let c_name = t.col("name");
        let mut units: Vec<Unit> = Vec::with_capacity(t.rows.len());
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut parent_ids: Vec<String> = Vec::new();
        for row in &t.rows {
            let id = t.cell(row, c_id).to_string();
            if id.is_empty() {
                errs.push(t.loc(row, c_id), "unit id is empty");
                continue;
            }
            if let Some(&prev) = index.get(&id) {
                let prev_line = units.get(prev).map(|u| u.line).unwrap_or(0);
                errs.push(t.loc(row, c_id), format!("duplicate unit id `{id}` (first on line {prev_line})"));
                continue;
            }
            let level = t.cell(row, c_level).to_string();
            if level.is_empty() {
                errs.push(t.loc(row, c_level), format!("level of unit `{id}` is empty"));
            }
            let name = c_name.map(|c| t.cell(row, c)).filter(|s| !s.is_empty()).unwrap_or(&id).to_string();
            index.insert(id.clone(), units.len());
            parent_ids.push(t.cell(row, c_parent).to_string());
            units.push(Unit {
                id,
                name,
                parent: None,
                level,
                line: row.line,
            });
        }
        let mut roots = Vec::new();
        for (i, pid) in parent_ids.iter().enumerate() {
            let Some(u) = units.get(i) else { continue };
            let line = u.line;
            if pid.is_empty() {
                roots.push(i);
            } else if let Some(&p) = index.get(pid) {
                if let Some(u) = units.get_mut(i) {
                    u.parent = Some(p);
                }
            } else {
                errs.push(
                    Location::at(&t.file, Some(line), "parent_id"),
                    format!("parent `{pid}` of unit `{}` is not in {}", u.id, t.file),
                );
            }
        }
        match roots.as_slice() {
            [] if !units.is_empty() => errs.push(
                Location::at(&t.file, None, "parent_id"),
                "no root unit: exactly one unit must have an empty parent_id",
            ),
            [] => errs.push(Location::file(&t.file), "no units"),
            [_] => {}
            many => {
                let lines: Vec<String> = many
                    .iter()
                    .filter_map(|&i| units.get(i))
                    .map(|u| format!("{} (line {})", u.id, u.line))
                    .collect();
                errs.push(
                    Location::at(&t.file, None, "parent_id"),
                    format!(
                        "several root units (empty parent_id): {}; the hierarchy must have one root",
                        lines.join(", ")
                    ),
                );
            }
        }
        // Cycles: walk up from every unit; more steps than units means a cycle.
        let n = units.len();
        let mut reported = vec![false; n];
        for start in 0..n {
            let mut cur = start;
            let mut steps = 0;
            while let Some(p) = units.get(cur).and_then(|u| u.parent) {
                cur = p;
                steps += 1;
                if steps > n {
                    break;
                }
            }
            if steps > n && !reported.get(start).copied().unwrap_or(true) {
                // collect the cycle members from `cur`
                let mut members = vec![cur];
                let mut c = units.get(cur).and_then(|u| u.parent);
                while let Some(x) = c {
                    if x == cur || members.len() > n {
                        break;
                    }
                    members.push(x);
                    c = units.get(x).and_then(|u| u.parent);
                }
                if members.iter().all(|&m| !reported.get(m).copied().unwrap_or(true)) {
                    for &m in &members {
                        if let Some(r) = reported.get_mut(m) {
                            *r = true;
                        }
                    }
                    members.sort_unstable();
                    let first = members.first().and_then(|&m| units.get(m));
                    let names: Vec<&str> = members.iter().filter_map(|&m| units.get(m)).map(|u| u.id.as_str()).collect();
                    errs.push(
                        Location::at(&t.file, first.map(|u| u.line), "parent_id"),
                        format!("the parents form a cycle: {}", names.join(" → ")),
                    );
                }
                if let Some(r) = reported.get_mut(start) {
                    *r = true;
                }
            }
        }
        if !errs.is_empty() {
            return Err(errs);
        }
        let mut children = vec![Vec::new(); n];
        for (i, u) in units.iter().enumerate() {
            if let Some(p) = u.parent {
                if let Some(c) = children.get_mut(p) {
                    c.push(i);
                }
            }
        }
        for c in &mut children {
            c.sort_by(|&a, &b| units.get(a).map(|u| u.id.as_bytes()).cmp(&units.get(b).map(|u| u.id.as_bytes())));
        }
        let root = roots.first().copied().unwrap_or(0);
        let mut by_id: Vec<usize> = (0..n).collect();
        by_id.sort_by(|&a, &b| units.get(a).map(|u| u.id.as_bytes()).cmp(&units.get(b).map(|u| u.id.as_bytes())));
        let mut rank = vec![0u32; n];
        for (r, &i) in by_id.iter().enumerate() {
            if let Some(x) = rank.get_mut(i) {
                *x = u32::try_from(r).unwrap_or(u32::MAX);
            }
        }
        let mut levels: Vec<String> = Vec::new();
        let level_of = units
            .iter()
            .map(|u| {
                let k = levels.iter().position(|l| *l == u.level).unwrap_or_else(|| {
                    levels.push(u.level.clone());
                    levels.len() - 1
                });
                u32::try_from(k).unwrap_or(u32::MAX)
            })
            .collect();
        Ok(Hierarchy {
            units,
            index,
            children,
            root,
            rank,
            level_of,
            levels,
        })
    }

    /// The unit's position among all units sorted by id in byte order: `rank(a) < rank(b)`
    /// exactly when `id(a) < id(b)`.
    pub fn id_rank(&self, i: usize) -> u32 {
        self.rank.get(i).copied().unwrap_or(u32::MAX)
    }

    /// The index of a level name (`None` if no unit has that level).
    pub(crate) fn level_index(&self, level: &str) -> Option<u32> {
        self.levels.iter().position(|l| l == level).and_then(|k| u32::try_from(k).ok())
    }

    /// All units in file order.
    pub fn units(&self) -> &[Unit] {
        &self.units
    }

    /// The unit at an index.
    pub fn unit(&self, i: usize) -> Option<&Unit> {
        self.units.get(i)
    }

    /// Index of the unit with this id.
    pub fn find(&self, id: &str) -> Option<usize> {
        self.index.get(id).copied()
    }

    /// Index of the root.
    pub fn root(&self) -> usize {
        self.root
    }

    /// Direct children of a unit, ordered by id.
    pub fn children(&self, i: usize) -> &[usize] {
        self.children.get(i).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The descendants of `i` whose level is `level`, ordered by id (byte order). The search
    /// does not descend below a unit of that level.
    pub fn descendants_at_level(&self, i: usize, level: &str) -> Vec<usize> {
        let mut out = Vec::new();
        if let Some(l) = self.level_index(level) {
            self.descendants_at_level_into(i, l, &mut Vec::new(), &mut out);
        }
        out
    }

    /// [`Hierarchy::descendants_at_level`] with the level as an index
    /// ([`Hierarchy::level_index`]), written to `out` (cleared first), `stack` a working vector.
    pub(crate) fn descendants_at_level_into(&self, i: usize, level: u32, stack: &mut Vec<usize>, out: &mut Vec<usize>) {
        out.clear();
        stack.clear();
        stack.extend(self.children(i).iter().rev().copied());
        while let Some(x) = stack.pop() {
            if self.level_of.get(x) == Some(&level) {
                out.push(x);
            } else {
                stack.extend(self.children(x).iter().rev().copied());
            }
        }
        // children are ordered by id, so when every descendant at the level is a child (the
        // usual case) the order is right already
        if !out.is_sorted_by_key(|&x| self.id_rank(x)) {
            out.sort_unstable_by_key(|&x| self.id_rank(x));
        }
    }

    /// True when `anc` is `i` or one of its ancestors.
    pub fn is_ancestor_or_self(&self, anc: usize, i: usize) -> bool {
        let mut cur = Some(i);
        let mut steps = 0;
        while let Some(c) = cur {
            if c == anc {
                return true;
            }
            steps += 1;
            if steps > self.units.len() {
                return false;
            }
            cur = self.units.get(c).and_then(|u| u.parent);
        }
        false
    }

    /// Number of units.
    pub fn len(&self) -> usize {
        self.units.len()
    }

    /// True when there are no units (never, for a checked hierarchy).
    pub fn is_empty(&self) -> bool {
        self.units.is_empty()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn h(csv: &str) -> Result<Hierarchy, InputErrors> {
        Hierarchy::from_table(&Table::from_csv_bytes("units.csv", csv.as_bytes()).unwrap())
    }

    #[test]
    fn a_tree_loads() {
        let hh =
            h("id,name,parent_id,level\nP,省,,province\nC2,乙市,P,city\nC1,甲市,P,city\nK1,县一,C1,county\nK2,县二,C2,county\n").unwrap();
        assert_eq!(hh.descendants_at_level(hh.root(), "county").len(), 2);
        assert_eq!(
            hh.descendants_at_level(hh.root(), "city")
                .iter()
                .map(|&i| hh.unit(i).unwrap().id.as_str())
                .collect::<Vec<_>>(),
            ["C1", "C2"]
        );
    }

    #[test]
    fn every_problem_is_reported() {
        let e = h("id,name,parent_id,level\nP,省,,province\nA,a,B,city\nB,b,A,city\nA,dup,P,city\nX,x,NOPE,county\nR,r,,province\n")
            .unwrap_err();
        let s = e.to_string();
        assert!(s.contains("duplicate unit id `A`"), "{s}");
        assert!(s.contains("parent `NOPE`"), "{s}");
        assert!(s.contains("several root units"), "{s}");
        assert!(s.contains("cycle"), "{s}");
        assert!(s.contains("units.csv:5"), "{s}");
    }

    #[test]
    fn missing_columns_are_named() {
        let e = h("id,name,level\nP,p,province\n").unwrap_err();
        assert!(e.to_string().contains("`parent_id`"));
    }
}
