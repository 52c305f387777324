//! The registry of subjects: looking one up as a name is typed, reading a record with
//! its cases and measures (audited), correcting or moving it, merging two records.

use actix_web::{HttpResponse, get, patch, post, web};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::instant;
use crate::auth::CurrentUser;
use crate::error::Error;
use crate::model::subject::{CaseOfSubject, Former, Subject};
use crate::paging::{Page, PageRequest};
use crate::state::AppState;
use crate::subjects::{self, SubjectPatch};
use crate::web::extract::{IfMatch, JsonBody, QueryParams, etag};

#[derive(Serialize, utoipa::ToSchema)]
pub struct RegistrySubject {
    id: String,
    /// `organization` or `individual`.
    kind: String,
    /// A person's full name as written; for a body, its name (none: the unit itself).
    name: Option<String>,
    /// The unit the subject belongs to now.
    unit_id: String,
    position: Option<String>,
    /// Empty when not known (then any measure in force fits).
    categories: Vec<String>,
    identifier: Option<String>,
    version: i64,
}

impl From<Subject> for RegistrySubject {
    fn from(s: Subject) -> Self {
        RegistrySubject {
            categories: s.category_list().into_iter().map(|c| c.as_str().to_string()).collect(),
            id: s.id,
            kind: s.kind.as_str().to_string(),
            name: s.name,
            unit_id: s.unit_id,
            position: s.position,
            identifier: s.identifier,
            version: s.version,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct FormerView {
    unit_id: String,
    position: Option<String>,
    /// When the subject left that unit or position.
    until: String,
}

impl From<Former> for FormerView {
    fn from(f: Former) -> Self {
        FormerView { unit_id: f.unit_id, position: f.position, until: instant(f.ended_at) }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct MeasureTaken {
    measure: String,
    decided_on: NaiveDate,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SubjectCase {
    id: String,
    number: String,
    title: String,
    detected_on: NaiveDate,
    status: String,
    subject_unit_id: String,
    /// The measures in force on the case, latest first.
    measures: Vec<MeasureTaken>,
}

impl From<CaseOfSubject> for SubjectCase {
    fn from(c: CaseOfSubject) -> Self {
        SubjectCase {
            measures: c
                .measures
                .into_iter()
                .map(|(measure, decided_on)| MeasureTaken { measure, decided_on })
                .collect(),
            id: c.id,
            number: c.number,
            title: c.title,
            detected_on: c.detected_on,
            status: c.status,
            subject_unit_id: c.subject_unit_id,
        }
    }
}

/// A subject's record: the subject, its former units and positions, and its cases the
/// reader may see (each with the measures taken), newest first.
#[derive(Serialize, utoipa::ToSchema)]
pub struct SubjectRecord {
    #[serde(flatten)]
    subject: RegistrySubject,
    history: Vec<FormerView>,
    cases: Vec<SubjectCase>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SubjectQuery {
    /// The start of the name, diacritics and case ignored ("nguyen van h").
    q: Option<String>,
    /// Subjects of this unit's subtree.
    unit_id: Option<String>,
    /// `organization` or `individual`.
    kind: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
}

/// Subjects within the caller's reach whose name starts with `q`, by name.
#[utoipa::path(tag = "subjects", params(SubjectQuery), responses((status = 200, description = "Subjects by name", body = Page<RegistrySubject>)))]
#[get("/subjects")]
pub async fn list(
    state: web::Data<AppState>,
    caller: CurrentUser,
    q: QueryParams<SubjectQuery>,
) -> Result<HttpResponse, Error> {
    let q = q.0;
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let (after, fetch) = (page.after.clone(), page.fetch());
    let rows = state
        .db(move |conn| {
            subjects::search(conn, &caller, q.q.as_deref(), q.unit_id.as_deref(), q.kind.as_deref(), after, fetch)
        })
        .await?;
    Ok(HttpResponse::Ok().json(page.page(rows, |s| s.id.clone(), RegistrySubject::from)))
}

/// A subject's record; reading it is written to the audit log.
#[utoipa::path(tag = "subjects", responses((status = 200, description = "The record", body = SubjectRecord)))]
#[get("/subjects/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    caller: CurrentUser,
    path: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let r = state.op(move |conn, ctx| subjects::read(conn, ctx, &caller, &path)).await?;
    let view = SubjectRecord {
        subject: RegistrySubject::from(r.subject),
        history: r.history.into_iter().map(FormerView::from).collect(),
        cases: r.cases.into_iter().map(SubjectCase::from).collect(),
    };
    Ok(HttpResponse::Ok().insert_header(("ETag", etag(view.subject.version))).json(view))
}

/// Corrects a record or moves it to another unit (reviewers within their subtree,
/// administrators); the former unit and position are kept in its history.
#[utoipa::path(tag = "subjects", params(("If-Match" = Option<String>, Header, description = "The version you read")), request_body = SubjectPatch, responses((status = 200, description = "The corrected record", body = RegistrySubject)))]
#[patch("/subjects/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    caller: CurrentUser,
    path: web::Path<String>,
    if_match: IfMatch,
    body: JsonBody<SubjectPatch>,
) -> Result<HttpResponse, Error> {
    let s = state.op(move |conn, ctx| subjects::correct(conn, ctx, &caller, &path, if_match.0, body.0)).await?;
    Ok(HttpResponse::Ok().insert_header(("ETag", etag(s.version))).json(RegistrySubject::from(s)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeInput {
    /// The record that absorbs this one.
    into: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Merged {
    subject: RegistrySubject,
    cases_moved: usize,
}

/// Merges this record into `into` (administrators): its cases move, counts follow.
#[utoipa::path(tag = "subjects", request_body = MergeInput, responses((status = 200, description = "The record kept", body = Merged)))]
#[post("/subjects/{id}/merge")]
pub async fn merge(
    state: web::Data<AppState>,
    caller: CurrentUser,
    path: web::Path<String>,
    body: JsonBody<MergeInput>,
) -> Result<HttpResponse, Error> {
    let into = body.0.into;
    let (s, moved) = state.op(move |conn, ctx| subjects::merge(conn, ctx, &caller, &path, into.as_deref())).await?;
    Ok(HttpResponse::Ok().json(Merged { subject: RegistrySubject::from(s), cases_moved: moved }))
}
