//! Evaluation tallies per unit in one statement: the events (or tasks) in scope, their
//! milestones (`event_milestones`, kept as the timeline is written), excuses, supervision
//! orders and hotline callbacks, each read once and grouped by unit in the database. Nothing is loaded per event.
//!
//! Written as SQL rather than diesel's DSL because it needs conditional aggregates over joined
//! grouped subqueries; the only dialect difference is how two instants are subtracted.

use chrono::NaiveDateTime;
use diesel::QueryableByName;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Double, Nullable, Text, Timestamp};
use gridwork_mobile_core::AreaLevel;
use gridwork_mobile_core::domain::task::TaskState;

use crate::db::DbConn;
use crate::db::conn::MultiBackend;

/// What the tallies are grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Area(AreaLevel),
    Department,
    Handler,
}

/// Which events count: those filed in one of `areas` (or anywhere), optionally narrowed to
/// one area.
#[derive(Debug, Clone, Default)]
pub struct Reach {
    pub everywhere: bool,
    pub areas: Vec<(AreaLevel, String)>,
    pub within: Option<(AreaLevel, String)>,
}

/// One unit's raw counts over a period; `events::evaluation` turns them into rates.
#[derive(Debug, Clone, Default, QueryableByName)]
pub struct Tally {
    #[diesel(sql_type = Text)]
    pub unit: String,
    #[diesel(sql_type = BigInt)]
    pub reported: i64,
    #[diesel(sql_type = BigInt)]
    pub accepted: i64,
    #[diesel(sql_type = BigInt)]
    pub dispatched: i64,
    #[diesel(sql_type = BigInt)]
    pub returned: i64,
    #[diesel(sql_type = BigInt)]
    pub closed: i64,
    #[diesel(sql_type = BigInt)]
    pub closed_on_time: i64,
    #[diesel(sql_type = BigInt)]
    pub excused: i64,
    #[diesel(sql_type = BigInt)]
    pub reworked: i64,
    #[diesel(sql_type = BigInt)]
    pub extended: i64,
    #[diesel(sql_type = BigInt)]
    pub overdue_open: i64,
    #[diesel(sql_type = BigInt)]
    pub orders_issued: i64,
    #[diesel(sql_type = BigInt)]
    pub orders_closed: i64,
    #[diesel(sql_type = BigInt)]
    pub orders_open: i64,
    #[diesel(sql_type = BigInt)]
    pub callbacks: i64,
    #[diesel(sql_type = BigInt)]
    pub satisfied: i64,
    #[diesel(sql_type = Nullable<Double>)]
    pub accept_secs: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    pub dispatch_secs: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    pub handle_secs: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    pub verify_secs: Option<f64>,
}

enum Bind {
    Text(String),
    Time(NaiveDateTime),
}

/// SQL text with its bind values, numbered the way the backend wants them.
struct Statement {
    text: String,
    binds: Vec<Bind>,
    postgres: bool,
}

impl Statement {
    fn push(&mut self, sql: &str) -> &mut Self {
        self.text.push_str(sql);
        self
    }

    fn bind(&mut self, value: Bind) -> &mut Self {
        self.binds.push(value);
        if self.postgres {
            let n = self.binds.len();
            self.text.push_str(&format!("${n}"));
        } else {
            self.text.push('?');
        }
        self
    }

    fn time(&mut self, t: NaiveDateTime) -> &mut Self {
        self.bind(Bind::Time(t))
    }

    /// Seconds from `a` to `b`.
    fn seconds(&mut self, a: &str, b: &str) -> &mut Self {
        let sql = if self.postgres {
            format!("EXTRACT(EPOCH FROM ({b} - {a}))")
        } else {
            format!("((julianday({b}) - julianday({a})) * 86400.0)")
        };
        self.push(&sql)
    }

    /// `col >= from AND col < to`.
    fn within(&mut self, col: &str, from: NaiveDateTime, to: NaiveDateTime) -> &mut Self {
        self.push(&format!("{col} >= ")).time(from).push(&format!(" AND {col} < ")).time(to)
    }

    /// `SUM(CASE WHEN <cond> THEN 1 ELSE 0 END) AS name`, the condition written by `cond`.
    fn count_if(&mut self, name: &str, cond: impl FnOnce(&mut Self)) -> &mut Self {
        self.push("SUM(CASE WHEN ");
        cond(self);
        self.push(&format!(" THEN 1 ELSE 0 END) AS {name},\n"))
    }

    /// The events in reach, on `e`.
    fn reach(&mut self, reach: &Reach) -> &mut Self {
        if !reach.everywhere {
            // Nothing unless an area says so: start false and widen.
            self.push("(1 = 0");
            for (level, code) in &reach.areas {
                self.push(&format!(" OR e.{} = ", column(*level))).bind(Bind::Text(code.clone()));
            }
            self.push(")");
        } else {
            self.push("1 = 1");
        }
        if let Some((level, code)) = &reach.within {
            self.push(&format!(" AND e.{} = ", column(*level))).bind(Bind::Text(code.clone()));
        }
        self
    }
}

fn column(level: AreaLevel) -> &'static str {
    match level {
        AreaLevel::City => "city_code",
        AreaLevel::District => "district_code",
        AreaLevel::Street => "street_code",
        AreaLevel::Community => "community_code",
        AreaLevel::Grid => "grid_code",
        AreaLevel::Compound => "compound_code",
        AreaLevel::Building => "building_code",
    }
}

fn quoted(names: &[&str]) -> String {
    names.iter().map(|n| format!("'{n}'")).collect::<Vec<_>>().join(", ")
}

/// Tallies per unit over [from, to), with what is open and overdue measured at `now`.
pub fn tally(
    conn: &mut DbConn,
    unit: Unit,
    reach: &Reach,
    from: NaiveDateTime,
    to: NaiveDateTime,
    now: NaiveDateTime,
) -> QueryResult<Vec<Tally>> {
    let postgres = matches!(conn, DbConn::Postgres(_));
    let mut q = Statement { text: String::new(), binds: vec![], postgres };
    let gone: Vec<&str> = TaskState::ALL.iter().filter(|s| s.is_gone()).map(|s| s.as_str()).collect();
    // One row per event for an area; one per task for a department or a handler. `counts` says
    // whether the row counts for the event's measures (a task its handler returned does not);
    // `given` is when the unit was given the work, `gave_back` whether it sent it back.
    let returned = format!("p.task_state = '{}'", TaskState::Returned.as_str());
    let (unit_sql, extra, joined, given, gave_back) = match unit {
        Unit::Area(level) => (
            format!("e.{}", column(level)),
            "1 AS counts".to_owned(),
            String::new(),
            "m.dispatched_at",
            "COALESCE(m.returns, 0) > 0",
        ),
        Unit::Department | Unit::Handler => (
            if unit == Unit::Handler { "t.user_id" } else { "t.department_id" }.to_owned(),
            format!(
                "CASE WHEN t.state IN ({}) THEN 0 ELSE 1 END AS counts, t.created_at AS given_at, t.state AS task_state",
                quoted(&gone)
            ),
            format!(" JOIN tasks t ON t.event_id = e.id AND t.state <> '{}'", TaskState::Withdrawn.as_str()),
            "p.given_at",
            returned.as_str(),
        ),
    };

    q.push("WITH picked AS (\n SELECT e.id, ").push(&unit_sql).push(" AS unit, ").push(&extra);
    q.push(", e.state, e.created_at, e.due_at, e.late_stages, e.rework_count, e.extension_count\n FROM events e");
    q.push(&joined).push("\n WHERE ").reach(reach);
    q.push(" AND e.created_at < ").time(to);
    q.push(" AND (e.created_at >= ").time(from).push(" OR e.updated_at >= ").time(from);
    q.push(" OR e.state NOT IN ('closed', 'rejected'))\n),\n");
    q.push(
        "excuses AS (\n SELECT x.event_id, COUNT(*) AS n FROM event_excuses x\n \
         GROUP BY x.event_id\n),\n",
    );
    q.push("orders AS (\n SELECT o.event_id,\n  ");
    q.count_if("issued", |q| {
        q.within("o.created_at", from, to);
    });
    q.push("  ").count_if("closed", |q| {
        q.push("o.state = 'closed' AND ").within("o.decided_at", from, to);
    });
    q.push("  SUM(CASE WHEN o.state <> 'closed' THEN 1 ELSE 0 END) AS still_open\n");
    q.push(" FROM supervision_orders o GROUP BY o.event_id\n),\n");
    // Hotline callbacks (回访) in the period, per event (several callers may share one case).
    q.push("calls AS (\n SELECT h.event_id,\n  ");
    q.count_if("callbacks", |q| {
        q.within("h.callback_at", from, to);
    });
    q.push("  ").count_if("satisfied", |q| {
        q.push("h.satisfied = TRUE AND ").within("h.callback_at", from, to);
    });
    q.push("  COUNT(*) AS calls\n FROM hotline_calls h WHERE h.callback_at IS NOT NULL GROUP BY h.event_id\n)\n");

    // The measures: `done` is "counts and closed in the period".
    let done = |q: &mut Statement| {
        q.push("p.counts = 1 AND ").within("m.closed_at", from, to);
    };
    q.push("SELECT p.unit AS unit,\n ");
    q.count_if("reported", |q| {
        q.push("p.counts = 1 AND ").within("p.created_at", from, to);
    });
    q.push(" ").count_if("accepted", |q| {
        q.push("p.counts = 1 AND ").within("m.accepted_at", from, to);
    });
    q.push(" ").count_if("dispatched", |q| {
        q.within(given, from, to);
    });
    q.push(" ").count_if("returned", |q| {
        q.within(given, from, to).push(" AND ").push(gave_back);
    });
    q.push(" ").count_if("closed", done);
    q.push(" ").count_if("closed_on_time", |q| {
        done(q);
        q.push(" AND p.late_stages <= COALESCE(x.n, 0)");
    });
    q.push(" ").count_if("excused", |q| {
        done(q);
        q.push(" AND COALESCE(x.n, 0) > 0");
    });
    q.push(" ").count_if("reworked", |q| {
        done(q);
        q.push(" AND p.rework_count > 0");
    });
    q.push(" ").count_if("extended", |q| {
        done(q);
        q.push(" AND p.extension_count > 0");
    });
    q.push(" ").count_if("overdue_open", |q| {
        q.push("p.counts = 1 AND p.state NOT IN ('closed', 'rejected') AND p.due_at < ").time(now);
    });
    q.push(" CAST(SUM(CASE WHEN p.counts = 1 THEN COALESCE(o.issued, 0) ELSE 0 END) AS BIGINT) AS orders_issued,\n");
    q.push(" CAST(SUM(CASE WHEN p.counts = 1 THEN COALESCE(o.closed, 0) ELSE 0 END) AS BIGINT) AS orders_closed,\n");
    q.push(" CAST(SUM(CASE WHEN p.counts = 1 THEN COALESCE(o.still_open, 0) ELSE 0 END) AS BIGINT) AS orders_open,\n");
    q.push(" CAST(SUM(CASE WHEN p.counts = 1 THEN COALESCE(c.callbacks, 0) ELSE 0 END) AS BIGINT) AS callbacks,\n");
    q.push(" CAST(SUM(CASE WHEN p.counts = 1 THEN COALESCE(c.satisfied, 0) ELSE 0 END) AS BIGINT) AS satisfied");
    for (name, a, b) in [
        ("accept_secs", "p.created_at", "m.accepted_at"),
        ("dispatch_secs", "m.accepted_at", "m.dispatched_at"),
        ("handle_secs", "m.dispatched_at", "m.resolved_at"),
        ("verify_secs", "m.resolved_at", "m.closed_at"),
    ] {
        q.push(",\n CAST(AVG(CASE WHEN ");
        done(&mut q);
        q.push(&format!(" AND {a} IS NOT NULL AND {b} IS NOT NULL AND {b} >= {a} THEN "));
        q.seconds(a, b).push(&format!(" END) AS DOUBLE PRECISION) AS {name}"));
    }
    q.push(
        "\nFROM picked p\n LEFT JOIN event_milestones m ON m.event_id = p.id\n LEFT JOIN excuses x ON x.event_id = p.id\n \
         LEFT JOIN orders o ON o.event_id = p.id\n LEFT JOIN calls c ON c.event_id = p.id\nWHERE p.unit IS NOT NULL\nGROUP BY p.unit\nORDER BY p.unit",
    );

    let mut query = diesel::sql_query(q.text).into_boxed::<MultiBackend>();
    for b in q.binds {
        query = match b {
            Bind::Text(v) => query.bind::<Text, _>(v),
            Bind::Time(t) => query.bind::<Timestamp, _>(t),
        };
    }
    if !postgres {
        return query.load(conn);
    }
    conn.transaction(|conn| {
        // PostgreSQL misjudges the joins of the grouped subqueries (millions of rows where there
        // are thousands) and would JIT-compile the statement: 1.7 s of compiling for 0.3 s of
        // work over 100,000 events (citybench). Without JIT, and with room to group a month of
        // a big city's timelines in memory, for this statement only.
        diesel::sql_query("SET LOCAL jit = off").execute(conn)?;
        diesel::sql_query("SET LOCAL work_mem = '64MB'").execute(conn)?;
        query.load(conn)
    })
}
