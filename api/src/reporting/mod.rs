//! Interreg reporting: periods, the work plan, indicators with their values (contributed by
//! partners, or derived from the portal's own data and never typed in), partner reports with
//! expenditure, and the period exports for the programme.

pub mod export;
pub mod figures;
pub mod graphql;
pub mod keep;
pub mod service;
pub mod types;
pub mod workbook;

use entity::{IndicatorKind, indicator};

use crate::domain::{CodePart, natural_key};

/// How indicators are listed everywhere (GraphQL and exports): outputs, results, then the
/// portal's own figures, each by code in natural order (RCO81 before RCO115).
pub fn indicator_order(i: &indicator::Model) -> (u8, Vec<CodePart>) {
    let kind = match i.kind {
        IndicatorKind::Output => 0,
        IndicatorKind::Result => 1,
        IndicatorKind::Portal => 2,
    };
    (kind, natural_key(&i.code))
}
