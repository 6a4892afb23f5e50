//! The JSON of migration matrices, their transition shares and projections (feature `serde`).
//!
//! A [`Migration`] serializes as
//! `{"dimension": "asset_class" | "segmenter" | "tier", "segmenter": name (segmenters only),
//! "from": D1, "to": D2, "rows": [...], "columns": [...], "customers_from": n, "customers_to": n,
//! "equity_from": "…", "equity_to": "…", "cells": [{"from": s, "to": t, "customers": n,
//! "equity_from": "…", "equity_to": "…"}]}`: states as their text (`(new)`, `(gone)`,
//! `(no tier)` for the explicit ones), money as decimal strings, only the cells with customers,
//! row by row. The customers' ids are left out (a base of a million customers would list them
//! all); [`Migration::with_ids`] adds them to each cell as `"ids"`.

use serde::ser::{Serialize, SerializeStruct, Serializer};

use super::markov::{Projection, Transitions};
use super::matrix::{Migration, MigrationCell};
use super::states::{MigrationDimension, MigrationState};

impl Serialize for MigrationState {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A migration matrix whose JSON lists each cell's customer ids ([`Migration::with_ids`]).
#[derive(Debug, Clone, Copy)]
pub struct MigrationWithIds<'m>(&'m Migration);

impl Migration {
    /// The matrix with each cell's customer ids in its JSON (`"ids"`, sorted).
    pub fn with_ids(&self) -> MigrationWithIds<'_> {
        MigrationWithIds(self)
    }

    fn serialize_cells<S: Serializer>(&self, s: S, ids: bool) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_struct("Migration", 11)?;
        m.serialize_field("dimension", self.dimension.kind())?;
        if let MigrationDimension::Segmenter(name) = &self.dimension {
            m.serialize_field("segmenter", &**name)?;
        } else {
            m.skip_field("segmenter")?;
        }
        m.serialize_field("from", &self.from)?;
        m.serialize_field("to", &self.to)?;
        m.serialize_field("rows", &self.rows().collect::<Vec<_>>())?;
        m.serialize_field("columns", &self.columns().collect::<Vec<_>>())?;
        m.serialize_field("customers_from", &self.customers_from())?;
        m.serialize_field("customers_to", &self.customers_to())?;
        m.serialize_field("equity_from", &self.equity.0)?;
        m.serialize_field("equity_to", &self.equity.1)?;
        let cells: Vec<CellJson<'_>> = self
            .cells
            .iter()
            .filter(|c| c.count() > 0)
            .map(|cell| CellJson { cell, ids })
            .collect();
        m.serialize_field("cells", &cells)?;
        m.end()
    }
}

struct CellJson<'c> {
    cell: &'c MigrationCell,
    ids: bool,
}

impl Serialize for CellJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let c = self.cell;
        let mut m = s.serialize_struct("MigrationCell", 6)?;
        m.serialize_field("from", &c.from)?;
        m.serialize_field("to", &c.to)?;
        m.serialize_field("customers", &c.count())?;
        m.serialize_field("equity_from", &c.equity_from)?;
        m.serialize_field("equity_to", &c.equity_to)?;
        if self.ids {
            m.serialize_field("ids", &c.customers)?;
        } else {
            m.skip_field("ids")?;
        }
        m.end()
    }
}

impl Serialize for MigrationCell {
    /// As in the matrix's `cells`, with the customer ids.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        CellJson {
            cell: self,
            ids: true,
        }
        .serialize(s)
    }
}

impl Serialize for Migration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.serialize_cells(s, false)
    }
}

impl Serialize for MigrationWithIds<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize_cells(s, true)
    }
}

impl Serialize for Transitions {
    /// `{"from": D1, "to": D2, "rows": [...], "columns": [...], "shares": [[...] or null, ...]}`.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (from, to) = self.dates();
        let mut m = s.serialize_struct("Transitions", 5)?;
        m.serialize_field("from", &from)?;
        m.serialize_field("to", &to)?;
        m.serialize_field("rows", self.rows())?;
        m.serialize_field("columns", &self.columns().collect::<Vec<_>>())?;
        let shares: Vec<Option<&[f64]>> = self.rows().iter().map(|r| self.row(r)).collect();
        m.serialize_field("shares", &shares)?;
        m.end()
    }
}

impl Serialize for Projection {
    /// `{"states": [...], "customers": [...], "retained": n, "gone": n, "unprojected":
    /// [{"state": s, "customers": n}]}`.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(serde::Serialize)]
        struct Unprojected<'a> {
            state: &'a MigrationState,
            customers: f64,
        }
        let mut m = s.serialize_struct("Projection", 5)?;
        m.serialize_field("states", self.states())?;
        m.serialize_field("customers", self.customers())?;
        m.serialize_field("retained", &self.retained())?;
        m.serialize_field("gone", &self.gone())?;
        let unprojected: Vec<Unprojected<'_>> = self
            .unprojected()
            .iter()
            .map(|(state, customers)| Unprojected {
                state,
                customers: *customers,
            })
            .collect();
        m.serialize_field("unprojected", &unprojected)?;
        m.end()
    }
}
