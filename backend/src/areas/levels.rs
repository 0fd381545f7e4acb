//! The H3 resolution each level is indexed at. Chosen so that a typical area spans tens to a few
//! thousand cells: coarse enough to keep the index small, fine enough that most lookups land in a
//! cell wholly inside one area (answered without geometry).
//!
//! | level     | res | cell area  | typical area        |
//! |-----------|-----|------------|---------------------|
//! | city      | 7   | 5.2 km²    | 1,000–10,000 km²    |
//! | district  | 8   | 0.74 km²   | 10–3,000 km²        |
//! | street    | 9   | 0.105 km²  | 1–100 km²           |
//! | community | 10  | 0.015 km²  | 0.1–5 km²           |
//! | grid      | 11  | 2,150 m²   | 0.02–0.5 km²        |
//! | compound  | 12  | 307 m²     | 1–20 ha             |
//! | building  | 12  | 307 m²     | one footprint       |

use gridwork_mobile_core::AreaLevel;
use h3o::Resolution;

pub fn resolution(level: AreaLevel) -> Resolution {
    match level {
        AreaLevel::City => Resolution::Seven,
        AreaLevel::District => Resolution::Eight,
        AreaLevel::Street => Resolution::Nine,
        AreaLevel::Community => Resolution::Ten,
        AreaLevel::Grid => Resolution::Eleven,
        AreaLevel::Compound | AreaLevel::Building => Resolution::Twelve,
    }
}

pub fn index_of(level: AreaLevel) -> usize {
    usize::from(level.depth()) - 1
}
