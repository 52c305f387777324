//! The ledger's signed checkpoints (administrators, read-only).

use actix_web::{HttpResponse, get, web};
use serde::Serialize;

use super::instant;
use crate::auth::CurrentUser;
use crate::domain::role::Role;
use crate::error::Error;
use crate::ledger::checkpoint;
use crate::state::AppState;

#[derive(Serialize, utoipa::ToSchema)]
pub struct CheckpointView {
    /// How many sealed entries the checkpoint covers.
    size: i64,
    /// The Merkle root of those entries, hex.
    root: String,
    made_at: String,
    /// The signed note (C2SP tlog checkpoint): what `casetrack audit verify --checkpoint` reads.
    note: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CheckpointList {
    /// The key that signs them, in signed-note form (`name+id+key`).
    verifier_key: Option<String>,
    items: Vec<CheckpointView>,
}

/// The latest 100 checkpoints, newest first, and the key that signed them.
#[utoipa::path(tag = "audit", responses((status = 200, description = "Signed checkpoints, newest first", body = CheckpointList)))]
#[get("/audit/checkpoints")]
pub async fn list(state: web::Data<AppState>, caller: CurrentUser) -> Result<web::Json<CheckpointList>, Error> {
    caller.require(&[Role::Admin])?;
    let kept = state.db(|conn| Ok(checkpoint::list(conn, 100)?)).await?;
    let verifier_key = crate::ledger::run::verifier_key(&state.settings).ok();
    let items = kept
        .into_iter()
        .map(|k| CheckpointView { size: k.size, root: k.root, made_at: instant(k.made_at), note: k.note })
        .collect();
    Ok(web::Json(CheckpointList { verifier_key, items }))
}

/// The latest checkpoint as its signed text (`text/plain`); 404 before the first.
#[utoipa::path(tag = "audit", responses((status = 200, description = "The latest signed checkpoint", content_type = "text/plain", body = String), (status = 404, description = "No checkpoint yet")))]
#[get("/audit/checkpoints/latest")]
pub async fn latest(state: web::Data<AppState>, caller: CurrentUser) -> Result<HttpResponse, Error> {
    caller.require(&[Role::Admin])?;
    let kept = state.db(|conn| Ok(checkpoint::latest(conn)?)).await?.ok_or(Error::NotFound)?;
    Ok(HttpResponse::Ok().content_type("text/plain; charset=utf-8").body(kept.note))
}

/// The case's sealed entries, each with the proof that it is in the latest signed
/// checkpoint: for an appeal file, checked offline with `casetrack audit check-proof`.
/// Whoever may read the case may export it; the export is audited.
#[utoipa::path(tag = "audit", responses((status = 200, description = "The case's entries and their inclusion proofs", body = crate::ledger::proof::CaseProof), (status = 409, description = "No checkpoint signed yet")))]
#[get("/cases/{id}/audit-proof")]
pub async fn case_proof(
    state: web::Data<AppState>,
    caller: CurrentUser,
    path: web::Path<String>,
) -> Result<web::Json<crate::ledger::proof::CaseProof>, Error> {
    let proof = state.op(move |conn, ctx| crate::ledger::run::case_proof(conn, ctx, &caller, &path)).await?;
    Ok(web::Json(proof))
}
