//! Reference data: the category catalog, departments, evaluation scores and reports.

use chrono::{DateTime, Utc};

use crate::domain::category::{Deadlines, Family, Grade, HandlerKind};

wire! {
    /// A category of the two-level catalog, with what it asks of the loop.
    pub struct Category {
        pub code: String,
        pub family: Family,
        pub major_code: String,
        pub major_name: String,
        pub minor_code: String,
        pub minor_name: String,
        pub default_grade: Grade,
        /// Minutes per stage and grade.
        #[cfg_attr(feature = "openapi", schema(value_type = Object))]
        pub deadlines: Deadlines,
        pub handler_kind: HandlerKind,
        pub department_code: Option<String>,
        pub after_photo_required: bool,
        pub duplicate_radius_m: u32,
        pub active: bool,
    }

    /// `GET /categories`.
    pub struct CategoryList {
        pub categories: Vec<Category>,
    }

    /// A department serving an area (a district's water bureau serves that district).
    pub struct Department {
        pub id: String,
        pub code: String,
        pub name: String,
        pub area_code: String,
        pub created_at: DateTime<Utc>,
    }

    /// `GET /departments`.
    pub struct DepartmentList {
        pub departments: Vec<Department>,
    }

    /// How one unit did over a period [from, to). Flow counts are of what happened in the
    /// period: events reported, accepted, first dispatched, closed in it. For a department or a
    /// handler each of its tasks counts (a task it returned counts only towards the return rate).
    #[derive(Default)]
    pub struct Score {
        pub unit: String,
        /// The unit's name (an area's, a department's, a handler's), where known.
        #[serde(default)]
        pub name: Option<String>,
        pub reported: u64,
        /// Accepted as cases (立案) in the period.
        #[serde(default)]
        pub accepted: u64,
        /// First given to a handler in the period (for a handler: tasks given to them).
        #[serde(default)]
        pub dispatched: u64,
        /// Of those dispatched, sent back by a handler at least once (退回).
        #[serde(default)]
        pub returned: u64,
        /// Closed in the period (merged duplicates are not).
        pub closed: u64,
        pub closed_on_time: u64,
        pub reworked: u64,
        /// Closed events whose deadline was extended at least once.
        #[serde(default)]
        pub extended: u64,
        /// Closed events with a late stage the ops centre excused (容错免责).
        #[serde(default)]
        pub excused: u64,
        /// Open now and past due.
        pub overdue_open: u64,
        /// Supervision orders (督办) issued in the period.
        pub supervision_orders: u64,
        /// Supervision orders closed in the period.
        #[serde(default)]
        pub orders_closed: u64,
        /// Supervision orders open now (open, replied or escalated).
        #[serde(default)]
        pub orders_open: u64,
        /// closed / reported (结案率); none with nothing reported.
        #[serde(default)]
        pub closure_rate: Option<f64>,
        /// closed_on_time / closed (按期结案率); none with nothing closed.
        #[serde(default)]
        pub on_time_closure_rate: Option<f64>,
        /// reworked / closed (返工率).
        pub rework_rate: Option<f64>,
        /// extended / closed (延期率).
        #[serde(default)]
        pub extension_rate: Option<f64>,
        /// returned / dispatched (退回率).
        #[serde(default)]
        pub return_rate: Option<f64>,
        /// Hotline callers called back (回访) in the period about the unit's events.
        #[serde(default)]
        pub callbacks: u64,
        /// Of those, satisfied.
        #[serde(default)]
        pub satisfied: u64,
        /// satisfied / callbacks (满意率); none without callbacks.
        #[serde(default)]
        pub satisfaction_rate: Option<f64>,
        /// Average seconds per stage over the events closed in the period: reported → accepted,
        /// accepted → first dispatched, dispatched → last resolved, resolved → closed.
        #[serde(default)]
        pub avg_accept_secs: Option<f64>,
        #[serde(default)]
        pub avg_dispatch_secs: Option<f64>,
        #[serde(default)]
        pub avg_handle_secs: Option<f64>,
        #[serde(default)]
        pub avg_verify_secs: Option<f64>,
    }

    /// `GET /evaluation`.
    pub struct Evaluation {
        pub from: DateTime<Utc>,
        pub to: DateTime<Utc>,
        pub units: Vec<Score>,
    }

    /// A finished evaluation report of one ops centre's area over a week or a month: the area,
    /// its parts one level down and its handlers, downloadable as CSV and XLSX.
    pub struct ReportInfo {
        pub id: String,
        /// `weekly` or `monthly`.
        pub kind: String,
        pub area_code: String,
        pub area_name: Option<String>,
        pub period_from: DateTime<Utc>,
        pub period_to: DateTime<Utc>,
        /// Units listed.
        pub rows: u32,
        pub created_at: DateTime<Utc>,
        pub csv_url: String,
        pub xlsx_url: String,
    }

    /// `GET /reports`, newest period first.
    pub struct ReportList {
        pub reports: Vec<ReportInfo>,
    }
}

impl Category {
    /// Handled by volunteers from the pool.
    pub fn volunteer_eligible(&self) -> bool {
        self.handler_kind == HandlerKind::Volunteer
    }
}
