//! Reference data: the category catalog, departments, and evaluation scores.

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

    /// How one unit did over a period.
    #[derive(Default)]
    pub struct Score {
        pub unit: String,
        /// The unit's name (an area's, a department's, a handler's), where known.
        #[serde(default)]
        pub name: Option<String>,
        pub reported: u64,
        pub closed: u64,
        pub closed_on_time: u64,
        pub reworked: u64,
        /// Closed events whose deadline was extended at least once.
        #[serde(default)]
        pub extended: u64,
        /// Closed events with a late stage the ops centre excused (容错免责).
        #[serde(default)]
        pub excused: u64,
        pub overdue_open: u64,
        pub supervision_orders: i64,
        /// closed / reported (结案率); none with nothing reported.
        #[serde(default)]
        pub closure_rate: Option<f64>,
        /// closed_on_time / closed; none with nothing closed.
        pub on_time_rate: Option<f64>,
        /// reworked / closed.
        pub rework_rate: Option<f64>,
        /// extended / closed (延期率).
        #[serde(default)]
        pub extension_rate: Option<f64>,
    }

    /// `GET /evaluation`.
    pub struct Evaluation {
        pub from: DateTime<Utc>,
        pub to: DateTime<Utc>,
        pub units: Vec<Score>,
    }
}

impl Category {
    /// Handled by volunteers from the pool.
    pub fn volunteer_eligible(&self) -> bool {
        self.handler_kind == HandlerKind::Volunteer
    }
}
