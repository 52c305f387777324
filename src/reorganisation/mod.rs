//! Reorganising the unit tree (administrators): merges, splits, renames, retirements and
//! new units as one operation with a legal basis and an effective date. A dry run and
//! the apply share one plan; applying it is one transaction under the tree's lock, and
//! never rewrites history: cases keep the unit they were found in, ended units keep
//! their rows and move under their first successor, so that the successor's people,
//! reports and alerts reach them.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::NaiveDate;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::auth::CurrentUser;
use crate::casework::Ctx;
use crate::db::schema::{campaign_targets, campaigns, cases, escalation_steps, users};
use crate::db::{self, DbConn, write_tx};
use crate::domain::role::{Role, UnitKind, one_of};
use crate::domain::text;
use crate::domain::validation::{Message, Validator, msg};
use crate::error::Error;
use crate::i18n::date as dmy;
use crate::model::audit::AuditEntry;
use crate::model::case::Case;
use crate::model::new_id;
use crate::model::reorganisation::{Reorganisation, UnitPast, add_successors};
use crate::model::subject::Subject;
use crate::model::unit::Unit;
use crate::model::{rollup, user::User};

/// The most steps one reorganisation may carry (Hanoi's 2025 change is about 700).
pub const MAX_STEPS: usize = 5000;

#[derive(Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
/// A reorganisation as asked for.
pub struct ReorganisationInput {
    /// `YYYY-MM-DD`: the first day of the new organisation; today or earlier.
    pub effective_on: Option<String>,
    pub basis: Option<Basis>,
    pub steps: Option<Vec<Step>>,
}

#[derive(Deserialize, Serialize, Clone, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
/// The legal text a reorganisation carries out.
pub struct Basis {
    /// Its number, e.g. `1656/NQ-UBTVQH15`.
    pub reference: Option<String>,
    /// `YYYY-MM-DD`.
    pub issued_on: Option<String>,
    pub title: Option<String>,
}

#[derive(Deserialize, Serialize, Clone, utoipa::ToSchema)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
/// One change of the tree.
pub enum Step {
    /// The `from` units end; `to` (existing or new) takes them over.
    Merge {
        from: Vec<String>,
        to: UnitRef,
    },
    /// `from` ends; the successors take it over, the first of them its archive. `place`
    /// sends each open case (by case id or number, or by the code of the unit it was
    /// found in) to one of them.
    Split {
        from: String,
        to: Vec<UnitRef>,
        #[serde(default)]
        place: BTreeMap<String, String>,
    },
    Rename {
        unit: String,
        name: String,
    },
    Retire {
        unit: String,
        successor: String,
    },
    Establish {
        unit: NewUnitSpec,
    },
}

#[derive(Deserialize, Serialize, Clone, utoipa::ToSchema)]
#[serde(untagged)]
/// A unit a step names: the code of an existing one, or a new one.
pub enum UnitRef {
    Code(String),
    New(NewUnitSpec),
}

#[derive(Deserialize, Serialize, Clone, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
/// A unit a reorganisation establishes.
pub struct NewUnitSpec {
    pub code: String,
    pub name: String,
    pub kind: String,
    /// The parent's code; none for a top-level unit.
    pub parent: Option<String>,
}

/// A unit as a plan names it.
#[derive(Serialize, Clone, Debug, utoipa::ToSchema)]
pub struct UnitBrief {
    pub unit_id: String,
    pub code: String,
    pub name: String,
    pub kind: String,
}

#[derive(Serialize, Clone, Debug, utoipa::ToSchema)]
pub struct EndedUnit {
    #[serde(flatten)]
    pub unit: UnitBrief,
    /// Codes of its successors, first (the one that keeps its records) first.
    pub successors: Vec<String>,
}

#[derive(Serialize, Clone, Debug, utoipa::ToSchema)]
pub struct RenamedUnit {
    pub code: String,
    pub from: String,
    pub to: String,
}

/// An open case whose responsibility moves to a successor.
#[derive(Serialize, Clone, Debug, utoipa::ToSchema)]
pub struct MovedCase {
    pub case_id: String,
    pub number: String,
    pub from: String,
    pub to: String,
}

#[derive(Serialize, Clone, Debug, utoipa::ToSchema)]
pub struct CampaignChange {
    pub campaign_id: String,
    pub title: String,
    /// Codes of the successors added to its targets (the ended ones stay, for history).
    pub added_targets: Vec<String>,
}

/// An account attached to a unit that ends: it still signs in but sees nothing until an
/// administrator moves it.
#[derive(Serialize, Clone, Debug, utoipa::ToSchema)]
pub struct StrandedUser {
    pub user_id: String,
    pub username: String,
    pub role: String,
    pub unit: String,
}

/// What the escalation of alerts loses and gains.
#[derive(Serialize, Clone, Debug, Default, utoipa::ToSchema)]
pub struct AlertChange {
    /// Unit codes whose head receives no more alerts (the successor's head does).
    pub heads_released: Vec<String>,
    /// Pending escalation levels of the moved cases, which now reach the successors.
    pub pending_levels_moved: i64,
}

/// What a reorganisation does (the dry run) or did (once applied).
#[derive(Serialize, Clone, Debug, utoipa::ToSchema)]
pub struct Plan {
    /// The stored reorganisation, once applied.
    pub id: Option<String>,
    pub applied: bool,
    pub effective_on: NaiveDate,
    pub basis_reference: String,
    pub basis_issued_on: Option<NaiveDate>,
    pub basis_title: String,
    pub established: Vec<UnitBrief>,
    pub ended: Vec<EndedUnit>,
    pub renamed: Vec<RenamedUnit>,
    pub moved_cases: Vec<MovedCase>,
    pub campaigns: Vec<CampaignChange>,
    pub users: Vec<StrandedUser>,
    pub alerts: AlertChange,
}

use crate::unit_tree::UNIT_TREE;

pub mod mapping;

/// An open case and the unit that takes it over.
type Move = (OpenCase, String);

/// What a plan reads of an open case it hands over: enough to place and list it (the
/// hand-over reads the rest back under its own row locks).
#[derive(Queryable, Selectable)]
#[diesel(table_name = cases)]
struct OpenCase {
    id: String,
    number: String,
    responsible_unit_id: Option<String>,
    subject_unit_id: String,
}

/// The tree as the steps leave it, and what each change needs written.
struct Work {
    by_code: HashMap<String, Unit>,
    code_of: HashMap<String, String>,
    new_units: Vec<Unit>,
    /// Ended unit id → successor ids (first first), in the order the steps end them.
    ending: Vec<(String, Vec<String>)>,
    ending_step: HashMap<String, usize>,
    renames: Vec<(String, String)>,
    /// Split steps: (step index, ended unit id, placement by key → successor id).
    splits: Vec<(usize, String, HashMap<String, String>)>,
}

impl Work {
    fn ends(&self, id: &str) -> bool {
        self.ending_step.contains_key(id)
    }

    /// The unit `code` names if it exists and lives on `on` (not ended, before or by the
    /// steps); otherwise the problem for `field`.
    fn living(&self, v: &mut Validator, field: &str, code: &str, on: NaiveDate) -> Option<String> {
        let key = code.trim().to_uppercase();
        let Some(unit) = self.by_code.get(&key) else {
            v.add(field, msg::unknown_unit_code(code));
            return None;
        };
        if let Some(ended) = unit.ended_on {
            v.add(field, msg::unit_ended(&unit.code, &dmy(ended)));
            return None;
        }
        if self.ends(&unit.id) {
            v.add(field, msg::unit_ended(&unit.code, &dmy(on)));
            return None;
        }
        if let Some(est) = unit.established_on.filter(|e| *e > on) {
            v.add(field, msg::unit_not_yet(&unit.code, &dmy(est)));
            return None;
        }
        Some(unit.id.clone())
    }

    /// A unit a step names: an existing living one, or a new one established on `on`.
    fn unit_ref(
        &mut self,
        v: &mut Validator,
        field: &str,
        r: &UnitRef,
        on: NaiveDate,
        now: chrono::NaiveDateTime,
    ) -> Option<String> {
        match r {
            UnitRef::Code(code) => self.living(v, field, code, on),
            UnitRef::New(spec) => self.establish(v, field, spec, on, now),
        }
    }

    fn establish(
        &mut self,
        v: &mut Validator,
        field: &str,
        spec: &NewUnitSpec,
        on: NaiveDate,
        now: chrono::NaiveDateTime,
    ) -> Option<String> {
        let before = v.count();
        let code = text::clean_code(&spec.code).map_err(|m| v.add(&format!("{field}.code"), m)).ok();
        let name = text::clean_required(&spec.name, 200).map_err(|m| v.add(&format!("{field}.name"), m)).ok();
        if UnitKind::parse(&spec.kind).is_none() {
            v.add(&format!("{field}.kind"), one_of(&UnitKind::ALL.map(UnitKind::as_str)));
        }
        let parent = match &spec.parent {
            Some(p) => Some(self.living(v, &format!("{field}.parent"), p, on)?),
            None => None,
        };
        let (code, name) = (code?, name?);
        if self.by_code.contains_key(&code) {
            v.add(&format!("{field}.code"), msg::unit_code_taken(&code));
        }
        if v.count() > before {
            return None;
        }
        let unit = Unit {
            id: new_id(),
            code: code.clone(),
            name,
            kind: spec.kind.clone(),
            parent_id: parent,
            head_user_id: None,
            email: None,
            version: 1,
            created_at: now,
            updated_at: now,
            established_on: Some(on),
            ended_on: None,
        };
        self.code_of.insert(unit.id.clone(), code.clone());
        self.by_code.insert(code, unit.clone());
        let id = unit.id.clone();
        self.new_units.push(unit);
        Some(id)
    }

    /// The ids of the units the steps end, in order.
    fn ending_ids(&self) -> Vec<String> {
        self.ending.iter().map(|(u, _)| u.clone()).collect()
    }

    /// Each ended unit's successors, first one first.
    fn successors(&self) -> HashMap<&str, &Vec<String>> {
        self.ending.iter().map(|(u, s)| (u.as_str(), s)).collect()
    }

    fn end(&mut self, step: usize, unit: String, successors: Vec<String>) {
        self.ending_step.insert(unit.clone(), step);
        self.ending.push((unit, successors));
    }

    fn code(&self, id: &str) -> String {
        self.code_of.get(id).cloned().unwrap_or_default()
    }

    fn brief(&self, id: &str) -> UnitBrief {
        let u = &self.by_code[&self.code(id)];
        UnitBrief { unit_id: u.id.clone(), code: u.code.clone(), name: u.name.clone(), kind: u.kind.clone() }
    }
}

/// Checks the input and works out what it does, inside the caller's transaction;
/// `Err` lists every problem, each under the step it belongs to.
fn plan(conn: &mut DbConn, ctx: &Ctx, input: &ReorganisationInput) -> Result<(Plan, Vec<Move>, Work), Error> {
    let now = ctx.now();
    let today = ctx.today()?;
    let mut v = Validator::new();
    let effective =
        v.require("effective_on", input.effective_on.as_deref()).and_then(
            |raw| match crate::domain::dates::parse_date(raw) {
                Ok(d) if d > today => {
                    v.add("effective_on", msg::not_future());
                    None
                }
                Ok(d) => Some(d),
                Err(m) => {
                    v.add("effective_on", m);
                    None
                }
            },
        );
    let basis = input.basis.clone().unwrap_or(Basis { reference: None, issued_on: None, title: None });
    if input.basis.is_none() {
        v.add("basis", msg::required());
    }
    // A text of the basis, required when the basis is given (its absence is one problem).
    let mut text_of = |field: &str, value: Option<&str>, max: usize| match value.map(|t| text::clean_required(t, max)) {
        Some(Ok(t)) => t,
        Some(Err(m)) => {
            v.add(field, m);
            String::new()
        }
        None => {
            if input.basis.is_some() {
                v.add(field, msg::required());
            }
            String::new()
        }
    };
    let reference = text_of("basis.reference", basis.reference.as_deref(), 100);
    let title = text_of("basis.title", basis.title.as_deref(), 500);
    let issued_on = match basis.issued_on.as_deref().map(crate::domain::dates::parse_date) {
        Some(Ok(d)) => Some(d),
        Some(Err(m)) => {
            v.add("basis.issued_on", m);
            None
        }
        None => None,
    };
    let steps = input.steps.as_deref().unwrap_or_default();
    if input.steps.is_none() {
        v.add("steps", msg::required());
    } else if steps.is_empty() {
        v.add("steps", msg::empty());
    } else if steps.len() > MAX_STEPS {
        v.add("steps", msg::too_many_rows(MAX_STEPS as i64));
    }
    let Some(on) = effective else {
        return Err(v.finish().err().map(Error::from).unwrap_or(Error::NotFound));
    };
    if steps.is_empty() || steps.len() > MAX_STEPS {
        return Err(v.finish().err().map(Error::from).unwrap_or(Error::NotFound));
    }

    let units = Unit::all(conn)?;
    let mut w = Work {
        code_of: units.iter().map(|u| (u.id.clone(), u.code.clone())).collect(),
        by_code: units.into_iter().map(|u| (u.code.clone(), u)).collect(),
        new_units: Vec::new(),
        ending: Vec::new(),
        ending_step: HashMap::new(),
        renames: Vec::new(),
        splits: Vec::new(),
    };
    for (i, step) in steps.iter().enumerate() {
        let at = format!("steps[{i}]");
        match step {
            Step::Merge { from, to } => {
                let target = w.unit_ref(&mut v, &format!("{at}.to"), to, on, now);
                if from.is_empty() {
                    v.add(&format!("{at}.from"), msg::empty());
                }
                let mut ended = Vec::new();
                for (j, code) in from.iter().enumerate() {
                    let field = format!("{at}.from[{j}]");
                    if let Some(id) = w.living(&mut v, &field, code, on) {
                        if target.as_deref() == Some(id.as_str()) {
                            v.add(&field, msg::succeeds_itself(&w.code(&id)));
                        } else if ended.contains(&id) {
                            v.add(&field, msg::appears_twice());
                        } else {
                            ended.push(id);
                        }
                    }
                }
                if let Some(target) = target {
                    for id in ended {
                        w.end(i, id, vec![target.clone()]);
                    }
                }
            }
            Step::Split { from, to, place } => {
                let source = w.living(&mut v, &format!("{at}.from"), from, on);
                if to.is_empty() {
                    v.add(&format!("{at}.to"), msg::empty());
                }
                let mut targets = Vec::new();
                for (j, r) in to.iter().enumerate() {
                    let field = format!("{at}.to[{j}]");
                    if let Some(id) = w.unit_ref(&mut v, &field, r, on, now) {
                        if source.as_deref() == Some(id.as_str()) {
                            v.add(&field, msg::succeeds_itself(&w.code(&id)));
                        } else {
                            targets.push(id);
                        }
                    }
                }
                let mut placement = HashMap::new();
                for (key, code) in place {
                    let field = format!("{at}.place.{key}");
                    match w.by_code.get(&code.trim().to_uppercase()) {
                        Some(u) if targets.contains(&u.id) => {
                            placement.insert(key.trim().to_string(), u.id.clone());
                        }
                        _ => v.add(&field, msg::place_not_successor(code)),
                    }
                }
                if let Some(source) = source
                    && !targets.is_empty()
                {
                    w.splits.push((i, source.clone(), placement));
                    w.end(i, source, targets);
                }
            }
            Step::Rename { unit, name } => {
                let id = w.living(&mut v, &format!("{at}.unit"), unit, on);
                match text::clean_required(name, 200) {
                    Ok(n) => {
                        if let Some(id) = id {
                            w.renames.push((id, n));
                        }
                    }
                    Err(m) => v.add(&format!("{at}.name"), m),
                }
            }
            Step::Retire { unit, successor } => {
                let id = w.living(&mut v, &format!("{at}.unit"), unit, on);
                let next = w.living(&mut v, &format!("{at}.successor"), successor, on);
                if let (Some(id), Some(next)) = (id, next) {
                    if id == next {
                        v.add(&format!("{at}.successor"), msg::succeeds_itself(&w.code(&id)));
                    } else {
                        w.end(i, id, vec![next]);
                    }
                }
            }
            Step::Establish { unit } => {
                w.establish(&mut v, &format!("{at}.unit"), unit, on, now);
            }
        }
    }

    // A successor, or a new unit's parent, that itself ends: a cycle, or a merge into a
    // unit that ends the same day.
    for (unit, successors) in &w.ending {
        let step = w.ending_step[unit];
        for s in successors {
            if w.ends(s) {
                v.add(&format!("steps[{step}]"), msg::successor_ends(&w.code(s)));
            }
        }
    }
    for u in &w.new_units {
        if let Some(p) = u.parent_id.as_deref().filter(|p| w.ends(p)) {
            v.add(&format!("steps[{}]", w.ending_step[p]), msg::parent_ends(&w.code(p)));
        }
    }
    // A unit that ends may not leave living units under it.
    let mut alive_under: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for u in w.by_code.values() {
        if let Some(p) = u.parent_id.as_deref()
            && w.ends(p)
            && u.ended_on.is_none()
            && !w.ends(&u.id)
        {
            alive_under.entry(p.to_string()).or_default().push(u.code.clone());
        }
    }
    for (parent, mut children) in alive_under {
        children.sort();
        let shown = children.iter().take(10).cloned().collect::<Vec<_>>().join(", ");
        v.add(&format!("steps[{}]", w.ending_step[&parent]), msg::alive_children(&w.code(&parent), &shown));
    }

    // Open cases handled by a unit that ends go to its successor.
    let (ending_ids, successors) = (w.ending_ids(), w.successors());
    let open: Vec<OpenCase> = cases::table
        .filter(cases::responsible_unit_id.eq_any(&ending_ids))
        .filter(cases::status.eq_any(crate::domain::workflow::OPEN_STATES))
        .order(cases::id)
        .select(OpenCase::as_select())
        .load(conn)?;
    let split_of: HashMap<&str, (usize, &HashMap<String, String>)> =
        w.splits.iter().map(|(i, u, p)| (u.as_str(), (*i, p))).collect();
    let mut moves = Vec::new();
    let mut unplaced: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    let mut used_keys: HashSet<(usize, String)> = HashSet::new();
    for case in open {
        let from = case.responsible_unit_id.clone().unwrap_or_default();
        let to = match split_of.get(from.as_str()) {
            None => successors[from.as_str()][0].clone(),
            Some((step, place)) => {
                let found_in = w.code(&case.subject_unit_id);
                let key = [case.id.as_str(), case.number.as_str(), found_in.as_str()]
                    .into_iter()
                    .find(|k| place.contains_key(*k))
                    .map(str::to_string);
                match key {
                    Some(k) => {
                        used_keys.insert((*step, k.clone()));
                        place[&k].clone()
                    }
                    None => {
                        unplaced.entry(*step).or_default().push(case.number.clone());
                        continue;
                    }
                }
            }
        };
        moves.push((case, to));
    }
    for (step, numbers) in unplaced {
        let shown = numbers.iter().take(10).cloned().collect::<Vec<_>>().join(", ");
        v.add(&format!("steps[{step}].place"), msg::unplaced_cases(numbers.len(), &shown));
    }
    // A key that names neither a case of the split unit nor a unit: a typo to report.
    for (step, _, place) in &w.splits {
        for key in place.keys() {
            if !used_keys.contains(&(*step, key.clone())) && !w.by_code.contains_key(key) && !is_case_key(conn, key)? {
                v.add(&format!("steps[{step}].place.{key}"), msg::place_unknown());
            }
        }
    }
    v.finish()?;

    let plan = describe(conn, &w, &moves, on, (reference, issued_on, title))?;
    Ok((plan, moves, w))
}

/// Whether `key` is the id or number of some case (a placement may name a closed one).
fn is_case_key(conn: &mut DbConn, key: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(cases::table.filter(cases::id.eq(key).or(cases::number.eq(key)))))
        .get_result(conn)
}

/// The readable account of a checked plan.
fn describe(
    conn: &mut DbConn,
    w: &Work,
    moves: &[Move],
    on: NaiveDate,
    (reference, issued_on, title): (String, Option<NaiveDate>, String),
) -> Result<Plan, Error> {
    let (ending_ids, successors) = (w.ending_ids(), w.successors());
    let ended = w
        .ending
        .iter()
        .map(|(u, s)| EndedUnit { unit: w.brief(u), successors: s.iter().map(|s| w.code(s)).collect() })
        .collect();
    let renamed = w
        .renames
        .iter()
        .map(|(id, to)| RenamedUnit { code: w.code(id), from: w.by_code[&w.code(id)].name.clone(), to: to.clone() })
        .collect();
    let moved_cases = moves
        .iter()
        .map(|(c, to)| MovedCase {
            case_id: c.id.clone(),
            number: c.number.clone(),
            from: w.code(c.responsible_unit_id.as_deref().unwrap_or_default()),
            to: w.code(to),
        })
        .collect();
    // Campaigns still running on the effective date that target a unit that ends.
    let targeted: Vec<(String, String, String)> = campaign_targets::table
        .inner_join(campaigns::table)
        .filter(campaign_targets::unit_id.eq_any(&ending_ids))
        .filter(campaigns::status.ne("concluded"))
        .filter(campaigns::ends_on.ge(on))
        .order((campaigns::id, campaign_targets::unit_id))
        .select((campaigns::id, campaigns::title, campaign_targets::unit_id))
        .load(conn)?;
    let campaign_ids: Vec<String> = targeted.iter().map(|(c, _, _)| c.clone()).collect();
    let existing: HashSet<(String, String)> = campaign_targets::table
        .filter(campaign_targets::campaign_id.eq_any(&campaign_ids))
        .select((campaign_targets::campaign_id, campaign_targets::unit_id))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect();
    let mut by_campaign: BTreeMap<String, CampaignChange> = BTreeMap::new();
    for (campaign, title, unit) in targeted {
        let entry = by_campaign.entry(campaign.clone()).or_insert_with(|| CampaignChange {
            campaign_id: campaign.clone(),
            title,
            added_targets: Vec::new(),
        });
        for s in successors[unit.as_str()] {
            let code = w.code(s);
            if !existing.contains(&(campaign.clone(), s.clone())) && !entry.added_targets.contains(&code) {
                entry.added_targets.push(code);
            }
        }
    }
    let stranded: Vec<User> = users::table
        .filter(users::unit_id.eq_any(&ending_ids))
        .filter(users::active.eq(true))
        .order(users::username)
        .select(User::as_select())
        .load(conn)?;
    let users = stranded
        .into_iter()
        .map(|u| StrandedUser {
            unit: w.code(u.unit_id.as_deref().unwrap_or_default()),
            user_id: u.id,
            username: u.username,
            role: u.role,
        })
        .collect();
    let moved_ids: Vec<String> = moves.iter().map(|(c, _)| c.id.clone()).collect();
    let mut pending = 0;
    for chunk in moved_ids.chunks(1000) {
        let n: i64 = escalation_steps::table
            .filter(escalation_steps::case_id.eq_any(chunk))
            .filter(escalation_steps::fired.eq(false))
            .count()
            .get_result(conn)?;
        pending += n;
    }
    let heads_released =
        w.ending.iter().filter(|(u, _)| w.by_code[&w.code(u)].head_user_id.is_some()).map(|(u, _)| w.code(u)).collect();
    Ok(Plan {
        id: None,
        applied: false,
        effective_on: on,
        basis_reference: reference,
        basis_issued_on: issued_on,
        basis_title: title,
        established: w.new_units.iter().map(|u| w.brief(&u.id)).collect(),
        ended,
        renamed,
        moved_cases,
        campaigns: by_campaign.into_values().filter(|c| !c.added_targets.is_empty()).collect(),
        users,
        alerts: AlertChange { heads_released, pending_levels_moved: pending },
    })
}

/// Checks a reorganisation and, unless `dry_run`, applies it: all steps or none.
pub fn reorganise(
    conn: &mut DbConn,
    ctx: &Ctx,
    caller: &CurrentUser,
    input: ReorganisationInput,
    dry_run: bool,
) -> Result<Plan, Error> {
    caller.require(&[Role::Admin])?;
    let now = ctx.now();
    write_tx(conn, |conn| {
        db::lock(conn, &[UNIT_TREE])?;
        let (mut plan, moves, w) = plan(conn, ctx, &input)?;
        if dry_run {
            return Ok(plan);
        }
        let id = new_id();
        let on = plan.effective_on;
        plan.id = Some(id.clone());
        plan.applied = true;
        Reorganisation {
            id: id.clone(),
            effective_on: on,
            basis_reference: plan.basis_reference.clone(),
            basis_issued_on: plan.basis_issued_on,
            basis_title: plan.basis_title.clone(),
            steps: serde_json::to_string(&input.steps).map_err(Error::internal)?,
            outcome: serde_json::to_string(&plan).map_err(Error::internal)?,
            applied_by: caller.user.id.clone(),
            applied_at: now,
        }
        .insert(conn)?;
        let actor = caller.actor();
        // New units, parents before children.
        let mut pending: Vec<&Unit> = w.new_units.iter().collect();
        let mut placed: HashSet<String> = HashSet::new();
        while !pending.is_empty() {
            let (ready, rest): (Vec<&Unit>, Vec<&Unit>) = pending.into_iter().partition(|u| {
                u.parent_id.as_ref().is_none_or(|p| placed.contains(p) || !w.new_units.iter().any(|n| &n.id == p))
            });
            if ready.is_empty() {
                return Err(Error::internal("new units form a cycle"));
            }
            for u in ready {
                u.insert(conn)?;
                AuditEntry::record(conn, &actor, now, "establish", "unit", &u.id, None, Some(u.audit_snapshot()))?;
                placed.insert(u.id.clone());
            }
            pending = rest;
        }
        for (unit_id, name) in &w.renames {
            let before = Unit::find(conn, unit_id)?.ok_or(Error::NotFound)?;
            UnitPast::keep(conn, &before, on, Some(&id))?;
            let after = Unit { name: name.clone(), version: before.version + 1, updated_at: now, ..before.clone() };
            after.update_if_version(conn, before.version, before.parent_id.as_deref())?;
            AuditEntry::record(
                conn,
                &actor,
                now,
                "rename",
                "unit",
                unit_id,
                Some(before.audit_snapshot()),
                Some(after.audit_snapshot()),
            )?;
        }
        for (unit_id, successors) in &w.ending {
            let before = Unit::find(conn, unit_id)?.ok_or(Error::NotFound)?;
            UnitPast::keep(conn, &before, on, Some(&id))?;
            add_successors(conn, unit_id, successors, &id)?;
            let after = Unit {
                ended_on: Some(on),
                parent_id: Some(successors[0].clone()),
                version: before.version + 1,
                updated_at: now,
                ..before.clone()
            };
            after.update_if_version(conn, before.version, before.parent_id.as_deref())?;
            AuditEntry::record(
                conn,
                &actor,
                now,
                "end",
                "unit",
                unit_id,
                Some(before.audit_snapshot()),
                Some(after.audit_snapshot()),
            )?;
            // The people and bodies of the unit belong to its (first) successor now; the
            // cases keep the unit they were found in.
            Subject::move_unit(conn, unit_id, &successors[0], &caller.user.id, now)?;
        }
        hand_over(
            conn,
            &w,
            &moves,
            &caller.user.id,
            now,
            &json!({
                "reorganisation_id": id, "basis": plan.basis_reference, "effective_on": on,
            }),
        )?;
        for change in &plan.campaigns {
            let rows: Vec<_> = change
                .added_targets
                .iter()
                .map(|code| {
                    (
                        campaign_targets::campaign_id.eq(change.campaign_id.clone()),
                        campaign_targets::unit_id.eq(w.by_code[code].id.clone()),
                    )
                })
                .collect();
            crate::per_backend!(conn, |c| diesel::insert_into(campaign_targets::table).values(&rows).execute(c))?;
        }
        AuditEntry::record(
            conn,
            &actor,
            now,
            "reorganise",
            "reorganisation",
            &id,
            None,
            Some(json!({"steps": input.steps, "outcome": plan})),
        )?;
        Ok(plan)
    })
}

/// How many cases a hand-over writes at a time.
const HAND_OVER_BATCH: usize = 1000;

/// Hands open cases over to their successors, a thousand at a time: each case's
/// responsible unit and version, a timeline event (with `about`, the reorganisation),
/// and the report rollups, summed over the batch.
///
/// The UPDATE checks again that each case is still open and still the ended unit's,
/// and returns the rows it moved: the rollups and the timeline record exactly those, so
/// a case closed by someone else after the plan was read stays closed where it was,
/// counted once.
fn hand_over(
    conn: &mut DbConn,
    w: &Work,
    moves: &[Move],
    actor: &str,
    now: chrono::NaiveDateTime,
    about: &serde_json::Value,
) -> Result<(), Error> {
    // By successor, then by the unit handing over: a batch then names one or two pairs
    // (one UPDATE each) and its rollup changes fold into few rows, the cases of one
    // unit sharing most of their keys.
    let mut ordered: Vec<&Move> = moves.iter().collect();
    ordered.sort_by(|a, b| (&a.1, &a.0.responsible_unit_id, &a.0.id).cmp(&(&b.1, &b.0.responsible_unit_id, &b.0.id)));
    for batch in ordered.chunks(HAND_OVER_BATCH) {
        let mut pairs: BTreeMap<(&str, &str), Vec<&str>> = BTreeMap::new();
        for (case, to) in batch {
            let from = case.responsible_unit_id.as_deref().unwrap_or_default();
            pairs.entry((from, to.as_str())).or_default().push(case.id.as_str());
        }
        let mut moved: Vec<(Case, &str)> = Vec::with_capacity(batch.len());
        for ((from, to), ids) in pairs {
            // The UPDATE returns the cases as they now are, read under its row locks.
            let rows: Vec<Case> = crate::per_backend!(conn, |c| diesel::update(
                cases::table
                    .filter(cases::id.eq_any(&ids))
                    .filter(cases::responsible_unit_id.eq(from))
                    .filter(cases::status.eq_any(crate::domain::workflow::OPEN_STATES)),
            )
            .set((cases::responsible_unit_id.eq(to), cases::version.eq(cases::version + 1), cases::updated_at.eq(now)))
            .returning(Case::as_returning())
            .get_results(c))?;
            moved.extend(rows.into_iter().map(|c| (c, from)));
        }
        let cited = Case::indicators_of(conn, &moved.iter().map(|(c, _)| c.id.clone()).collect::<Vec<_>>())?;
        let befores: Vec<Case> = moved
            .iter()
            .map(|(after, from)| Case {
                responsible_unit_id: Some(from.to_string()),
                version: after.version - 1,
                ..after.clone()
            })
            .collect();
        let none = Vec::new();
        let changes: Vec<rollup::Change<'_>> = moved
            .iter()
            .zip(&befores)
            .map(|((after, _), before)| {
                let ids = cited.get(&after.id).unwrap_or(&none).as_slice();
                (Some((before, ids)), (after, ids))
            })
            .collect();
        rollup::record_many(conn, &changes)?;
        // One event per case, the same detail for every case of a pair: written per pair.
        let mut events: BTreeMap<(&str, &str), Vec<(String, String)>> = BTreeMap::new();
        for (case, from) in &moved {
            let to = case.responsible_unit_id.as_deref().unwrap_or_default();
            events.entry((from, to)).or_default().push((new_id(), case.id.clone()));
        }
        for ((from, to), events) in events {
            let mut detail = json!({
                "from": w.code(from), "to": w.code(to),
                "from_name": w.brief(from).name, "to_name": w.brief(to).name,
            });
            if let (Some(d), Some(a)) = (detail.as_object_mut(), about.as_object()) {
                d.extend(a.clone());
            }
            crate::db::dialect::insert_same_events(
                conn,
                &events,
                now,
                Some(actor),
                "reorganised",
                &detail.to_string(),
            )?;
        }
    }
    Ok(())
}

/// A message for a field, for callers that check one unit against a date.
pub fn gone_on(day: NaiveDate) -> Message {
    msg::unit_gone_on(&dmy(day))
}
