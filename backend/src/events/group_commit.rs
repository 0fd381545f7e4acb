//! Group commit for reports: phones' reports that arrive together are filed in one transaction,
//! so they share one commit (one flush of the log), one trip to the blocking pool and one
//! connection, instead of each paying for its own. Every guarantee of a lone report holds: each
//! answer is sent after the commit that made it durable; reports of one batch are filed in order,
//! so a key sent twice replays and a second report of one problem joins the first; a report the
//! checks refuse is answered at once and never joins a batch; should the batch fail, nothing of it
//! is written and each report is filed again on its own, so only the one at fault fails.
//!
//! Batches form by themselves: a few committers take whatever is waiting when they are free, so
//! a quiet server files each report alone at once, and a busy one files more per commit.

use std::sync::Arc;

use tokio::sync::{Mutex, mpsc, oneshot};

use super::actions::Ctx;
use super::intake::{self, Checked, Filed, NewReport};
use super::{OnEvent, on_filed};
use crate::auth::Caller;
use crate::db::{Backend, DbConn};
use crate::error::{ApiError, ApiResult};
use crate::models::event::EventRow;
use crate::state::AppState;

/// The most reports one transaction files.
const MAX_BATCH: usize = 64;

/// Reports waiting for a committer; beyond this the handler waits to hand its report over.
const QUEUE: usize = 1024;

/// A filed report as answered: the event, how it was filed, who is on it.
pub type FiledReport = (EventRow, Filed, OnEvent);

#[derive(Debug)]
struct Job {
    caller: Caller,
    new: NewReport,
    key: String,
    reply: oneshot::Sender<ApiResult<FiledReport>>,
}

/// The handlers' side: hands a report to the committers and waits for its answer.
#[derive(Debug, Clone)]
pub struct GroupCommit {
    jobs: mpsc::Sender<Job>,
    /// The committers' side until `spawn` starts them.
    waiting: Arc<std::sync::Mutex<Option<mpsc::Receiver<Job>>>>,
}

impl Default for GroupCommit {
    fn default() -> Self {
        let (jobs, rx) = mpsc::channel(QUEUE);
        Self { jobs, waiting: Arc::new(std::sync::Mutex::new(Some(rx))) }
    }
}

impl GroupCommit {
    /// Starts the committers (once): several on PostgreSQL (one commits while the next batch
    /// forms and is read), one on SQLite (its writers take turns anyway).
    pub fn spawn(state: &AppState) {
        let taken = state.group_commit.waiting.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
        let Some(rx) = taken else { return };
        let rx = Arc::new(Mutex::new(rx));
        let committers = match state.db.backend() {
            Backend::Postgres => (state.settings.database.pool.max_size / 2).clamp(1, 4),
            Backend::Sqlite => 1,
        };
        for _ in 0..committers {
            tokio::spawn(commit_loop(state.clone(), rx.clone()));
        }
    }

    /// Files a report with those that arrive with it; answers once it is committed.
    pub async fn file(&self, caller: Caller, new: NewReport, key: String) -> ApiResult<FiledReport> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job { caller, new, key, reply })
            .await
            .map_err(|_| ApiError::unavailable("the server is stopping"))?;
        answer.await.map_err(|_| ApiError::internal("the report's batch ended without an answer"))?
    }
}

async fn commit_loop(state: AppState, rx: Arc<Mutex<mpsc::Receiver<Job>>>) {
    loop {
        let mut jobs = Vec::with_capacity(MAX_BATCH);
        {
            let mut rx = rx.lock().await;
            if rx.recv_many(&mut jobs, MAX_BATCH).await == 0 {
                return;
            }
        }
        let answers: Vec<oneshot::Sender<ApiResult<FiledReport>>>;
        let work: Vec<(Caller, NewReport, String)>;
        (answers, work) = jobs.into_iter().map(|j| (j.reply, (j.caller, j.new, j.key))).unzip();
        let (index, policy) = (state.areas(), state.settings.event_loop);
        let n = work.len();
        state.metrics.report_batch(n);
        let result = state
            .db
            .run(move |conn| {
                let ctx = Ctx { index: &index, policy: &policy };
                Ok(file_batch(conn, ctx, &work))
            })
            .await;
        match result {
            Ok(outcomes) => {
                for (reply, outcome) in answers.into_iter().zip(outcomes) {
                    let _ = reply.send(outcome);
                }
                state.changed();
            }
            Err(e) => {
                tracing::warn!(reports = n, error = %e.message, "a batch of reports could not be filed");
                for reply in answers {
                    let _ = reply.send(Err(e.clone()));
                }
            }
        }
    }
}

/// Checks each report, files those that pass in one transaction (or one by one should it fail),
/// and answers each in its place.
pub fn file_batch(
    conn: &mut DbConn,
    ctx: Ctx<'_>,
    work: &[(Caller, NewReport, String)],
) -> Vec<ApiResult<FiledReport>> {
    let checked: Vec<ApiResult<Checked>> =
        work.iter().map(|(caller, new, key)| intake::check(conn, ctx, caller, new, key)).collect();
    let passed: Vec<&Checked> = checked.iter().filter_map(|c| c.as_ref().ok()).collect();
    let together = match passed.len() {
        0 => Some(vec![]),
        _ => match intake::file_together(conn, ctx, &passed) {
            Ok(filed) => Some(filed),
            Err(e) => {
                tracing::debug!(reports = passed.len(), code = ?e.code, "a batch of reports failed; filing them one by one");
                None
            }
        },
    };
    let mut together = together.map(Vec::into_iter);
    checked
        .into_iter()
        .map(|c| {
            let c = c?;
            let (row, filed) = match together.as_mut() {
                Some(filed) => filed.next().ok_or_else(|| ApiError::internal("a batch lost a report"))?,
                None => intake::file(conn, ctx, &c)?,
            };
            let on = on_filed(conn, &row, filed)?;
            Ok((row, filed, on))
        })
        .collect()
}
