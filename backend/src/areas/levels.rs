//! The H3 resolution each level is indexed at. Chosen so that a typical area spans tens to a few
//! thousand cells: coarse enough to keep the index small, fine enough that most lookups land in a
//! cell wholly inside one area (answered without geometry).
//!
//! | level     | res | cell area  | typical area        |
//! |-----------|-----|------------|---------------------|
//! | city      | 6   | 36 km²     | 1,000–10,000 km²    |
//! | district  | 7   | 5.2 km²    | 10–3,000 km²        |
//! | street    | 8   | 0.74 km²   | 1–100 km²           |
//! | community | 9   | 0.105 km²  | 0.1–5 km²           |
//! | grid      | 11  | 2,150 m²   | 0.02–0.5 km²        |
//! | compound  | 11  | 2,150 m²   | 1–20 ha             |
//! | building  | 11  | 2,150 m²   | one footprint       |
//!
//! Memory grows with the number of cells a boundary crosses, so each level sits at the coarsest
//! resolution that still leaves most of its cells wholly inside one area; buildings share cells
//! (several footprints per cell are settled by their few edges each). Grids, compounds and
//! buildings share resolution 11 and therefore one table: a lookup in a dense district answers
//! the three finest levels with one probe, which matters because lookups are bound by memory
//! latency, not arithmetic.

use gridwork_mobile_core::AreaLevel;
use h3o::Resolution;

pub fn resolution(level: AreaLevel) -> Resolution {
    match level {
        AreaLevel::City => Resolution::Six,
        AreaLevel::District => Resolution::Seven,
        AreaLevel::Street => Resolution::Eight,
        AreaLevel::Community => Resolution::Nine,
        AreaLevel::Grid | AreaLevel::Compound | AreaLevel::Building => Resolution::Eleven,
    }
}

pub fn index_of(level: AreaLevel) -> usize {
    usize::from(level.depth()) - 1
}
