//! The demo's Hanoi: the units before 2025 and the two reorganisations of 2025 that
//! made today's city, read from the files in `src/demo/hanoi/` (their sources are in
//! `src/demo/hanoi/README.md`) and applied with the same operation an administrator uses.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::auth::CurrentUser;
use crate::casework::Ctx;
use crate::db::schema::cases;
use crate::db::{DbConn, write_tx};
use crate::domain::workflow::OPEN_STATES;
use crate::model::new_id;
use crate::model::unit::Unit;
use crate::reorganisation::{self, Basis, ReorganisationInput, Step, mapping};

/// The units as they stood at the start of 2025: the city, party bodies, departments,
/// the 30 districts and a sample of wards (columns: code, name, kind, parent code).
const BEFORE: &str = include_str!("hanoi/don-vi-truoc-2025.csv");

/// One reorganisation of 2025, as the mapping an administrator would upload.
pub struct Change {
    pub effective_on: NaiveDate,
    pub mapping: &'static str,
    pub reference: &'static str,
    pub issued_on: NaiveDate,
    pub title: &'static str,
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

/// The departments merged on 1 March 2025, then the 126 wards and communes of 1 July 2025.
pub fn changes() -> [Change; 2] {
    [
        Change {
            effective_on: day(2025, 3, 1),
            mapping: include_str!("hanoi/so-nganh-2025-03-01.csv"),
            reference: "NQ HĐND Thành phố, kỳ họp thứ 21 khóa XVI",
            issued_on: day(2025, 2, 25),
            title: "Thành lập, tổ chức lại các cơ quan chuyên môn thuộc Ủy ban nhân dân Thành phố",
        },
        Change {
            effective_on: day(2025, 7, 1),
            mapping: include_str!("hanoi/cap-xa-2025-07-01.csv"),
            reference: "1656/NQ-UBTVQH15",
            issued_on: day(2025, 6, 16),
            title: "Sắp xếp các đơn vị hành chính cấp xã của thành phố Hà Nội năm 2025",
        },
    ]
}

/// Creates the units that stood before 2025, parents first; returns them in file order.
pub fn found(conn: &mut DbConn, now: NaiveDateTime, established_on: NaiveDate) -> Result<Vec<Unit>, String> {
    let mut reader = csv::ReaderBuilder::new().from_reader(BEFORE.as_bytes());
    let mut made: Vec<Unit> = Vec::new();
    for row in reader.records() {
        let row = row.map_err(|e| e.to_string())?;
        let (code, name, kind, parent) = (&row[0], &row[1], &row[2], &row[3]);
        let kind = mapping::kind_of(kind).ok_or_else(|| format!("demo unit {code}: unknown kind {kind}"))?;
        let parent_id = match parent {
            "" => None,
            p => Some(made.iter().find(|u| u.code == p).ok_or_else(|| format!("demo unit {code}: no parent {p}"))?),
        }
        .map(|p| p.id.clone());
        let unit = Unit {
            id: new_id(),
            code: code.into(),
            name: name.into(),
            kind: kind.as_str().into(),
            parent_id,
            head_user_id: None,
            email: Some(format!("vanphong.{}@hanoi.gov.vn", code.to_lowercase())),
            version: 1,
            created_at: now,
            updated_at: now,
            established_on: Some(established_on),
            ended_on: None,
        };
        write_tx(conn, |c| unit.insert(c)).map_err(|e| e.to_string())?;
        made.push(unit);
    }
    Ok(made)
}

/// Applies one change through [`reorganisation::reorganise`], as of its effective day.
/// The open cases of a unit that is split go to its successors in turn.
pub fn apply(conn: &mut DbConn, ctx: &Ctx, admin: &CurrentUser, change: &Change) -> Result<(), String> {
    let rows = mapping::read(change.mapping.as_bytes()).map_err(|m| format!("demo mapping: {}", m.key))?;
    let translated = mapping::translate(conn, &rows).map_err(|e| e.to_string())?;
    if let Some((line, column, m)) = translated.problems.first() {
        return Err(format!("demo mapping, row {line} column {column}: {}", m.key));
    }
    let by_code: HashMap<String, String> =
        Unit::all(conn).map_err(|e| e.to_string())?.into_iter().map(|u| (u.code, u.id)).collect();
    let mut steps = translated.steps;
    for step in &mut steps {
        if let Step::Split { from, to, place } = step {
            let id = by_code.get(from.as_str()).ok_or_else(|| format!("demo split: no unit {from}"))?;
            let open: Vec<String> = cases::table
                .filter(cases::responsible_unit_id.eq(id))
                .filter(cases::status.eq_any(OPEN_STATES))
                .order(cases::number)
                .select(cases::id)
                .load(conn)
                .map_err(|e| e.to_string())?;
            let codes: Vec<String> = to
                .iter()
                .map(|u| match u {
                    reorganisation::UnitRef::Code(c) => c.clone(),
                    reorganisation::UnitRef::New(n) => n.code.clone(),
                })
                .collect();
            for (i, case) in open.into_iter().enumerate() {
                place.insert(case, codes[i % codes.len()].clone());
            }
        }
    }
    let input = ReorganisationInput {
        effective_on: Some(change.effective_on.to_string()),
        basis: Some(Basis {
            reference: Some(change.reference.into()),
            issued_on: Some(change.issued_on.to_string()),
            title: Some(change.title.into()),
        }),
        steps: Some(steps),
    };
    reorganisation::reorganise(conn, ctx, admin, input, false)
        .map_err(|e| format!("demo reorganisation of {}: {e}", change.effective_on))?;
    Ok(())
}
