//! The unit tree as it stood on a date, rebuilt from the units' history and successions,
//! for reports cut `as_of` a day: each unit's parent then, and where a unit that did not
//! exist that day belongs (an ended one in its successor, a newer one in its predecessor).

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::unit_successors;
use crate::model::reorganisation::UnitPast;
use crate::model::unit::Unit;

/// The tree of one day.
pub struct TreeAt {
    codes: HashMap<String, String>,
    parent: HashMap<String, Option<String>>,
    alive: HashSet<String>,
    /// For each unit, the unit alive that day that stands for it.
    stands_for: HashMap<String, String>,
    /// For a unit not alive that day, the units alive that day it came from or went to.
    counterparts: HashMap<String, Vec<String>>,
}

/// How far a chain of successions or predecessions is followed (bad data ends the walk).
const MAX_HOPS: usize = 32;

impl TreeAt {
    /// The tree as it stood on `day`: a few thousand units and their history, in memory.
    pub fn load(conn: &mut DbConn, day: NaiveDate) -> QueryResult<TreeAt> {
        let units = Unit::all(conn)?;
        let history = UnitPast::all(conn)?;
        let links: Vec<(String, String, i32)> = unit_successors::table
            .order((unit_successors::unit_id, unit_successors::position))
            .select((unit_successors::unit_id, unit_successors::successor_id, unit_successors::position))
            .load(conn)?;
        let mut then: HashMap<&str, &UnitPast> = HashMap::new();
        for past in history.iter().filter(|p| p.valid_until > day) {
            // Ordered by valid_until: the first row after the day is the state of the day.
            then.entry(past.unit_id.as_str()).or_insert(past);
        }
        let mut parent = HashMap::new();
        let mut alive = HashSet::new();
        for u in &units {
            let p = match then.get(u.id.as_str()) {
                Some(past) => past.parent_id.clone(),
                None => u.parent_id.clone(),
            };
            parent.insert(u.id.clone(), p);
            if u.alive_on(day) {
                alive.insert(u.id.clone());
            }
        }
        let mut successors: HashMap<&str, Vec<&str>> = HashMap::new();
        let mut predecessors: HashMap<&str, Vec<&str>> = HashMap::new();
        for (from, to, _) in &links {
            successors.entry(from.as_str()).or_default().push(to.as_str());
            predecessors.entry(to.as_str()).or_default().push(from.as_str());
        }
        let mut stands_for = HashMap::new();
        let mut counterparts = HashMap::new();
        for u in &units {
            if alive.contains(&u.id) {
                stands_for.insert(u.id.clone(), u.id.clone());
                continue;
            }
            // Ended by the day: forward through successors; not yet established: back
            // through predecessors. The first unit found alive stands for it.
            let step = if u.ended_on.is_some_and(|e| e <= day) { &successors } else { &predecessors };
            let mut found = Vec::new();
            let mut frontier = vec![u.id.as_str()];
            let mut seen = HashSet::new();
            for _ in 0..MAX_HOPS {
                let mut next = Vec::new();
                for id in frontier {
                    for n in step.get(id).into_iter().flatten() {
                        if !seen.insert(*n) {
                            continue;
                        }
                        if alive.contains(*n) {
                            found.push(n.to_string());
                        } else {
                            next.push(*n);
                        }
                    }
                }
                if next.is_empty() {
                    break;
                }
                frontier = next;
            }
            if let Some(first) = found.first() {
                stands_for.insert(u.id.clone(), first.clone());
            }
            counterparts.insert(u.id.clone(), found);
        }
        let codes = units.into_iter().map(|u| (u.id, u.code)).collect();
        Ok(TreeAt { codes, parent, alive, stands_for, counterparts })
    }

    /// The rows a by-unit breakdown of `root` has that day: the root and its children
    /// then, or, for a root that did not exist yet, the units it came from.
    pub fn rows_of(&self, root: &str) -> Vec<String> {
        if !self.alive.contains(root) {
            return self.counterparts.get(root).cloned().unwrap_or_default();
        }
        let mut children: Vec<&String> = self
            .parent
            .iter()
            .filter(|(id, p)| p.as_deref() == Some(root) && self.alive.contains(*id))
            .map(|(id, _)| id)
            .collect();
        children.sort_by_key(|id| self.codes.get(*id));
        std::iter::once(root.to_string()).chain(children.into_iter().cloned()).collect()
    }

    /// For each unit, the `rows` its cases roll up to that day.
    pub fn rolls_into(&self, rows: &[String]) -> HashMap<String, Vec<String>> {
        let wanted: HashSet<&String> = rows.iter().collect();
        let mut out: HashMap<String, Vec<String>> = HashMap::new();
        for (unit, standing) in &self.stands_for {
            let mut at = Some(standing.clone());
            let mut hops = 0;
            while let Some(id) = at {
                if wanted.contains(&id) {
                    out.entry(unit.clone()).or_default().push(id.clone());
                }
                hops += 1;
                if hops > MAX_HOPS {
                    break;
                }
                at = self.parent.get(&id).cloned().flatten();
            }
        }
        out
    }
}
