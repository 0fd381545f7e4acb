//! Event categories (两级分类: major/minor) in two families, components (部件) and events (事件),
//! with grades and per-stage deadlines.

use std::collections::BTreeMap;

use super::error::DomainError;

named_enum!(
    /// 部件 (a public asset) or 事件 (an occurrence).
    Family, "family", Component => "component", Event => "event"
);
named_enum!(
    /// 一般, 较大, 重大, 特别重大 — from least to most severe.
    Grade, "grade", General => "general", Significant => "significant", Serious => "serious", Critical => "critical"
);
named_enum!(
    /// The timed stages of the loop.
    Stage, "stage", Accept => "accept", Dispatch => "dispatch", Handle => "handle", Verify => "verify"
);
named_enum!(
    /// Who handles events of a category.
    HandlerKind, "handler_kind", GridWorker => "grid_worker", Department => "department", Volunteer => "volunteer"
);

/// Minutes allowed per stage and grade.
pub type Deadlines = BTreeMap<Stage, BTreeMap<Grade, u32>>;

/// Every stage and grade present and positive, and a graver grade never given more time.
pub fn check_deadlines(d: &Deadlines) -> Result<(), DomainError> {
    for stage in &Stage::ALL {
        let per_grade = d.get(stage).ok_or_else(|| {
            DomainError::new("deadlines", "missing_deadline", format!("no deadlines for stage {stage}"))
        })?;
        let mut previous: Option<(Grade, u32)> = None;
        for grade in &Grade::ALL {
            let minutes = *per_grade.get(grade).ok_or_else(|| {
                DomainError::new("deadlines", "missing_deadline", format!("no {stage} deadline for grade {grade}"))
            })?;
            if minutes == 0 {
                return Err(DomainError::new(
                    "deadlines",
                    "invalid_deadline",
                    format!("{stage}/{grade} deadline must be positive"),
                ));
            }
            if let Some((pg, pm)) = previous
                && minutes > pm
            {
                return Err(DomainError::new(
                    "deadlines",
                    "deadline_order",
                    format!("{stage}: a {grade} event gets {minutes} min, more than a {pg} one ({pm} min)"),
                ));
            }
            previous = Some((*grade, minutes));
        }
    }
    Ok(())
}

/// `C-01-02` for components, `E-04-01` for events: family letter, major, minor (two digits each).
pub fn category_code(family: Family, major: &str, minor: &str) -> Result<String, DomainError> {
    let two = |field: &'static str, v: &str| {
        if v.len() == 2 && v.bytes().all(|b| b.is_ascii_digit()) {
            Ok(())
        } else {
            Err(DomainError::new(field, "invalid_format", format!("{field} must be two digits, got {v:?}")))
        }
    };
    two("major_code", major)?;
    two("minor_code", minor)?;
    let letter = match family {
        Family::Component => 'C',
        Family::Event => 'E',
    };
    Ok(format!("{letter}-{major}-{minor}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deadlines(f: impl Fn(Stage, Grade) -> u32) -> Deadlines {
        Stage::ALL.iter().map(|s| (*s, Grade::ALL.iter().map(|g| (*g, f(*s, *g))).collect())).collect()
    }

    #[test]
    fn deadlines_must_be_complete_positive_and_ordered() {
        assert!(check_deadlines(&deadlines(|_, g| 240 / (1 + g as u32))).is_ok());
        assert_eq!(check_deadlines(&deadlines(|_, _| 0)).map_err(|e| e.code), Err("invalid_deadline"));
        assert_eq!(check_deadlines(&deadlines(|_, g| 10 + g as u32)).map_err(|e| e.code), Err("deadline_order"));
        let mut d = deadlines(|_, _| 60);
        d.remove(&Stage::Verify);
        assert_eq!(check_deadlines(&d).map_err(|e| e.code), Err("missing_deadline"));
    }

    #[test]
    fn codes_and_names() {
        assert_eq!(category_code(Family::Component, "01", "02").as_deref(), Ok("C-01-02"));
        assert!(category_code(Family::Event, "1", "02").is_err());
        assert_eq!("serious".parse::<Grade>(), Ok(Grade::Serious));
        assert_eq!("urgent".parse::<Grade>().map_err(|e| e.code), Err("invalid_grade"));
        assert!(Grade::Critical > Grade::General);
    }
}
