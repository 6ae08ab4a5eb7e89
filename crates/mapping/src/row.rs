//! Mapping one row: every field coerced and checked, the row valid (with its warnings) or
//! rejected with all of its problems.

use std::sync::Arc;

use zcrm_protocol::Value;
use zcrm_readers::{Cells, Row, RowPos, RowRef};

use crate::coerce::{CellSource, Coerced};
use crate::{MappedRow, MappedValue, Mapper, Problem, RejectedRow};

/// The result of mapping one row.
pub(crate) enum Outcome {
    Valid(Option<MappedRow>, Vec<Problem>),
    Rejected(RejectedRow),
}

/// What checking a row's cells found.
struct Checked {
    problems: Vec<Problem>,
    warns: Vec<Problem>,
    fields: Vec<(Arc<str>, MappedValue)>,
    key: Option<String>,
}

impl Mapper {
    /// Maps one row: every field coerced and checked; `build` false only counts (no values kept).
    pub(crate) fn map_row(&self, row: Row, build: bool) -> Outcome {
        let c = self.check(&row.cells, row.problem.as_deref(), build);
        self.outcome(c, row.pos, build, || row.cells)
    }

    /// [`Mapper::map_row`] for a row borrowed from a block: cells are copied only for the
    /// rows kept (rejected ones, and valid ones when `build`).
    pub(crate) fn map_ref(&self, row: RowRef<'_>, build: bool) -> Outcome {
        let c = self.check(&row, row.problem, build);
        self.outcome(c, row.pos, build, || row.to_cells())
    }

    fn outcome(
        &self,
        c: Checked,
        pos: RowPos,
        build: bool,
        cells: impl FnOnce() -> Cells,
    ) -> Outcome {
        let Checked { problems, warns, fields, key } = c;
        if !problems.is_empty() {
            return Outcome::Rejected(RejectedRow { pos, source: cells(), problems });
        }
        if !build {
            return Outcome::Valid(None, warns);
        }
        Outcome::Valid(Some(MappedRow { pos, key, source: cells(), fields }), warns)
    }

    fn check<R: CellSource>(&self, row: &R, problem: Option<&str>, build: bool) -> Checked {
        let mut problems = Vec::new();
        let mut warns: Vec<Problem> = Vec::new();
        let mut scratch = Vec::new();
        if let Some(p) = problem {
            problems.push(Problem {
                field: Arc::from("row"),
                column: None,
                rule: "unreadable row",
                reason: p.to_owned(),
            });
        }
        let key = self.key.as_ref().map(|(i, _)| row.cell(*i));
        if let (Some(k), Some((_, col))) = (key, &self.key)
            && k.trim().is_empty()
        {
            problems.push(Problem {
                field: Arc::from("key"),
                column: Some(col.clone()),
                rule: "key is empty",
                reason: "the step's key column is empty; every row needs a key".to_owned(),
            });
        }
        let mut fields = Vec::with_capacity(if build { self.plans.len() } else { 0 });
        for plan in &self.plans {
            match plan.value(row, self, &mut scratch) {
                Err(f) => problems.push(plan.problem(f)),
                Ok(c) if build && problems.is_empty() => match c {
                    Coerced::Empty => {}
                    Coerced::Text(t) => {
                        fields.push((
                            plan.label.clone(),
                            MappedValue::Value(Value::Text(t.into_owned())),
                        ));
                    }
                    Coerced::Value(v) => fields.push((plan.label.clone(), MappedValue::Value(v))),
                    Coerced::Owner(u) => fields
                        .push((plan.label.clone(), MappedValue::Owner { user: u.into_owned() })),
                    Coerced::Lookup(k) => fields.push((
                        plan.label.clone(),
                        MappedValue::Lookup {
                            step: plan.lookup.clone().unwrap_or_default(),
                            key: k.into_owned(),
                        },
                    )),
                },
                Ok(_) => {}
            }
            for w in scratch.drain(..) {
                warns.push(plan.problem(w));
            }
        }
        let key = if build && problems.is_empty() { key.map(str::to_owned) } else { None };
        Checked { problems, warns, fields, key }
    }
}
