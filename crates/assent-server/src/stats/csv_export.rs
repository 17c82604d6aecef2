//! Every panel as CSV (`format=csv`): one table per answer, a header row first.

use axum::http::header;
use axum::response::{IntoResponse, Response};

/// Builds a CSV answer named `name.csv` from a header and rows.
pub struct Table {
    name: String,
    writer: csv::Writer<Vec<u8>>,
}

impl Table {
    pub fn new(name: &str, header: &[&str]) -> Table {
        let mut writer = csv::Writer::from_writer(Vec::new());
        writer.write_record(header).expect("writing to memory");
        Table {
            name: name.to_string(),
            writer,
        }
    }

    pub fn row<I, S>(&mut self, cells: I)
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let cells: Vec<String> = cells.into_iter().map(|c| safe_cell(c.as_ref())).collect();
        self.writer.write_record(&cells).expect("writing to memory");
    }

    pub fn into_response(self) -> Response {
        let bytes = self.writer.into_inner().expect("writing to memory");
        (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{}.csv\"", self.name),
                ),
                (header::CACHE_CONTROL, "no-store".to_string()),
            ],
            bytes,
        )
            .into_response()
    }
}

/// Values come from visitors' browsers (page paths, referrers, properties): one that starts
/// like a spreadsheet formula is kept as text.
fn safe_cell(value: &str) -> String {
    match value.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') if value.parse::<f64>().is_err() => {
            format!("'{value}")
        }
        _ => value.to_string(),
    }
}

pub fn ratio(value: f64) -> String {
    format!("{value:.4}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_from_visitors_stay_text() {
        assert_eq!(safe_cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(safe_cell("-12.5"), "-12.5");
        assert_eq!(safe_cell("/cart"), "/cart");
    }
}
