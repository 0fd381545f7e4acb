use serde::{Deserialize, Serialize};

use super::area::{AreaCode, AreaTree};
use super::error::DomainError;

named_enum!(
    /// What a person does in Gridwork. Always held over a [`Scope`].
    Role, "role",
    Resident => "resident",
    Volunteer => "volunteer",
    GridWorker => "grid_worker",
    DeptHandler => "dept_handler",
    Coordinator => "coordinator",
    DistrictOperator => "district_operator",
    CityOperator => "city_operator",
    Admin => "admin",
);

impl Role {
    /// Whether the role may be held without an area (system-wide). Only administrators are;
    /// everyone else works somewhere.
    pub fn may_be_global(self) -> bool {
        matches!(self, Role::Admin)
    }

    /// Department handlers act for a department; the grant must name it.
    pub fn needs_department(self) -> bool {
        matches!(self, Role::DeptHandler)
    }
}

/// Where a role applies: a whole subtree of the area map, or everywhere (administrators).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case", tag = "kind", content = "area_code")]
pub enum Scope {
    Everywhere,
    Area(AreaCode),
}

impl Scope {
    pub fn covers(&self, area: &AreaCode, tree: &impl AreaTree) -> bool {
        match self {
            Scope::Everywhere => true,
            Scope::Area(root) => tree.is_within(area, root),
        }
    }

    /// Whether someone with this scope works in or over `area`: the area lies inside the scope,
    /// or the scope inside the area.
    pub fn touches(&self, area: &AreaCode, tree: &impl AreaTree) -> bool {
        match self {
            Scope::Everywhere => true,
            Scope::Area(root) => tree.is_within(area, root) || tree.is_within(root, area),
        }
    }

    pub fn area_code(&self) -> Option<&AreaCode> {
        match self {
            Scope::Everywhere => None,
            Scope::Area(code) => Some(code),
        }
    }
}

/// A role held over a scope, checked for consistency at construction.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RoleGrant {
    pub role: Role,
    pub scope: Scope,
    pub department_code: Option<String>,
}

impl RoleGrant {
    pub fn new(role: Role, scope: Scope, department_code: Option<String>) -> Result<Self, DomainError> {
        if scope == Scope::Everywhere && !role.may_be_global() {
            return Err(DomainError::new("scope", "scope_required", format!("role {role} must be held over an area")));
        }
        match (role.needs_department(), department_code.is_some()) {
            (true, false) => Err(DomainError::new(
                "department",
                "department_required",
                "a dept_handler grant must name a department",
            )),
            (false, true) => Err(DomainError::new(
                "department",
                "department_not_allowed",
                format!("role {role} is not held for a department"),
            )),
            _ => Ok(Self { role, scope, department_code }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::area::NoAreas;

    fn code(s: &str) -> AreaCode {
        AreaCode::parse(s).unwrap()
    }

    #[test]
    fn roles_round_trip() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
            let json = serde_json::to_string(&role).unwrap();
            assert_eq!(json, format!("\"{}\"", role.as_str()));
        }
        assert!("mayor".parse::<Role>().is_err());
    }

    #[test]
    fn only_admins_are_global_and_only_handlers_have_departments() {
        assert!(RoleGrant::new(Role::Admin, Scope::Everywhere, None).is_ok());
        let err = RoleGrant::new(Role::Coordinator, Scope::Everywhere, None).err();
        assert_eq!(err.map(|e| e.code), Some("scope_required"));
        let area = Scope::Area(code("420102003"));
        let err = RoleGrant::new(Role::DeptHandler, area.clone(), None).err();
        assert_eq!(err.map(|e| e.code), Some("department_required"));
        let err = RoleGrant::new(Role::GridWorker, area.clone(), Some("water".into())).err();
        assert_eq!(err.map(|e| e.code), Some("department_not_allowed"));
        assert!(RoleGrant::new(Role::DeptHandler, area, Some("water".into())).is_ok());
    }

    #[test]
    fn scopes_deny_by_default_without_a_tree() {
        let street = code("420102003");
        assert!(Scope::Everywhere.covers(&street, &NoAreas));
        assert!(Scope::Area(street.clone()).covers(&street, &NoAreas));
        assert!(!Scope::Area(street).covers(&code("420102003001"), &NoAreas));
    }
}
