//! Debtor lists: CSV files as collection systems export them.
//!
//! Real exports vary: UTF-8 or Windows-1252 (Latin-1) text, comma or
//! semicolon separators (Spanish-locale spreadsheets use `;`), Spanish or
//! English column names, phone numbers in national format. The list is read
//! whole; a bad row is reported with its line and field and skipped, the
//! rest still dial. Only a file that cannot be a contact list at all (no
//! phone column, unreadable) stops the run.

#![deny(clippy::disallowed_methods)]

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};

use phonenumber::Mode;

/// One debtor to call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    /// The collection system's id for the debtor or debt.
    pub id: String,
    /// E.164, e.g. `+525512345678`.
    pub phone: String,
    pub name: String,
    pub balance: String,
    pub due_date: String,
    /// Every other column, by its header name, for prompts and reports.
    pub vars: BTreeMap<String, String>,
    /// Line of the CSV file the contact came from.
    pub line: u64,
}

impl Contact {
    /// A value by the name a message uses: `id`, `phone`, `name`,
    /// `balance`, `due_date`, the list's own name for those columns
    /// (`saldo`, `vencimiento` ...), or any other column.
    pub fn value(&self, name: &str) -> Option<&str> {
        // A column of the list by its own name wins over an alias: a list
        // with both `id` and `cuenta` columns means its own `cuenta`.
        if !COLUMNS.iter().any(|(canonical, _)| *canonical == name)
            && let Some(value) = self.vars.get(name)
        {
            return Some(value);
        }
        let canonical = COLUMNS
            .iter()
            .find(|(canonical, aliases)| *canonical == name || aliases.contains(&name))
            .map(|(canonical, _)| *canonical);
        match canonical {
            Some("id") => Some(&self.id),
            Some("phone") => Some(&self.phone),
            Some("name") => Some(&self.name),
            Some("balance") => Some(&self.balance),
            Some("due_date") => Some(&self.due_date),
            _ => self.vars.get(name).map(String::as_str),
        }
    }
}

/// The names a message may use for the required columns.
pub fn required_column_names() -> impl Iterator<Item = &'static str> {
    COLUMNS
        .iter()
        .flat_map(|(canonical, aliases)| std::iter::once(*canonical).chain(aliases.iter().copied()))
}

/// How the file's bytes were read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextEncoding {
    Utf8,
    /// Not valid UTF-8: read as Windows-1252, the superset of Latin-1 that
    /// spreadsheet exports on Windows produce.
    Windows1252,
}

/// A loaded list: the contacts to dial and the rows that were skipped.
#[derive(Debug)]
pub struct ContactList {
    pub contacts: Vec<Contact>,
    pub rejected: Vec<RowError>,
    pub encoding: TextEncoding,
    pub delimiter: u8,
    /// The header's column names, lower case, as messages may use them.
    pub columns: Vec<String>,
}

/// A row that was skipped, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub path: PathBuf,
    pub line: u64,
    pub field: String,
    pub reason: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: {}: {}",
            self.path.display(),
            self.line,
            self.field,
            self.reason
        )
    }
}

/// The file cannot be used as a contact list.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ContactsError {
    #[error("{path}: cannot read: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{path}:1: the header has no {missing} column (found: {found}); expected at least id,phone,name,balance,due_date"
    )]
    MissingColumn {
        path: PathBuf,
        missing: &'static str,
        found: String,
    },
    #[error("{path}:1: column '{column}' appears twice in the header")]
    DuplicateColumn { path: PathBuf, column: String },
    #[error("{path}: the file is empty (a header line is needed)")]
    Empty { path: PathBuf },
    #[error("{path}: {message}")]
    Csv { path: PathBuf, message: String },
}

/// The required columns and the names exports use for them.
const COLUMNS: [(&str, &[&str]); 5] = [
    (
        "id",
        &["id", "contact_id", "id_cliente", "cliente", "cuenta"],
    ),
    (
        "phone",
        &[
            "phone",
            "telefono",
            "teléfono",
            "celular",
            "movil",
            "móvil",
            "numero",
            "número",
        ],
    ),
    ("name", &["name", "nombre", "nombre_completo"]),
    ("balance", &["balance", "saldo", "monto", "adeudo"]),
    (
        "due_date",
        &[
            "due_date",
            "vencimiento",
            "fecha_vencimiento",
            "fecha_limite",
            "fecha_límite",
        ],
    ),
];

/// Reads a contact list, normalizing phones to E.164 with `region` as the
/// default country for numbers written without one.
pub fn load(path: &Path, region: phonenumber::country::Id) -> Result<ContactList, ContactsError> {
    let bytes = std::fs::read(path).map_err(|source| ContactsError::Read {
        path: path.to_owned(),
        source,
    })?;
    parse(path, &bytes, region)
}

pub fn parse(
    path: &Path,
    bytes: &[u8],
    region: phonenumber::country::Id,
) -> Result<ContactList, ContactsError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let (text, encoding) = match std::str::from_utf8(bytes) {
        Ok(text) => (text.to_owned(), TextEncoding::Utf8),
        Err(_) => (decode_windows_1252(bytes), TextEncoding::Windows1252),
    };
    let header_line = text.lines().next().unwrap_or("");
    if header_line.trim().is_empty() {
        return Err(ContactsError::Empty {
            path: path.to_owned(),
        });
    }
    let delimiter = if header_line.matches(';').count() > header_line.matches(',').count() {
        b';'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(true)
        .from_reader(text.as_bytes());
    let csv_error = |e: csv::Error| ContactsError::Csv {
        path: path.to_owned(),
        message: e.to_string(),
    };
    let headers: Vec<String> = reader
        .headers()
        .map_err(csv_error)?
        .iter()
        .map(|h| h.trim().to_lowercase())
        .collect();
    let mut seen = HashMap::new();
    for h in &headers {
        if seen.insert(h.clone(), ()).is_some() {
            return Err(ContactsError::DuplicateColumn {
                path: path.to_owned(),
                column: h.clone(),
            });
        }
    }
    let mut index = [0usize; 5];
    for (slot, (canonical, aliases)) in COLUMNS.iter().enumerate() {
        index[slot] = headers
            .iter()
            .position(|h| aliases.contains(&h.as_str()))
            .ok_or_else(|| ContactsError::MissingColumn {
                path: path.to_owned(),
                missing: canonical,
                found: headers.join(","),
            })?;
    }
    let [id_at, phone_at, name_at, balance_at, due_at] = index;

    let mut list = ContactList {
        contacts: Vec::new(),
        rejected: Vec::new(),
        encoding,
        delimiter,
        columns: headers.clone(),
    };
    let mut first_line_of_id: HashMap<String, u64> = HashMap::new();
    let mut lines = LineCounter::default();
    for record in reader.records() {
        let record = record.map_err(csv_error)?;
        let line = record
            .position()
            .map_or(0, |p| lines.line_at(text.as_bytes(), p.byte() as usize));
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let reject = |field: &str, reason: String| RowError {
            path: path.to_owned(),
            line,
            field: field.to_owned(),
            reason,
        };
        if record.len() != headers.len() {
            list.rejected.push(reject(
                "(row)",
                format!(
                    "has {} fields, the header has {}",
                    record.len(),
                    headers.len()
                ),
            ));
            continue;
        }
        let field = |at: usize| record.get(at).unwrap_or("").trim().to_owned();
        let id = field(id_at);
        if id.is_empty() {
            list.rejected
                .push(reject(&headers[id_at], "is empty".into()));
            continue;
        }
        if let Some(first) = first_line_of_id.get(&id) {
            list.rejected.push(reject(
                &headers[id_at],
                format!("'{id}' was already used on line {first}"),
            ));
            continue;
        }
        let raw_phone = field(phone_at);
        let phone = match normalize_phone(&raw_phone, region) {
            Ok(phone) => phone,
            Err(reason) => {
                list.rejected.push(reject(&headers[phone_at], reason));
                continue;
            }
        };
        first_line_of_id.insert(id.clone(), line);
        let vars = headers
            .iter()
            .enumerate()
            .filter(|(i, _)| !index.contains(i))
            .map(|(i, h)| (h.clone(), field(i)))
            .collect();
        list.contacts.push(Contact {
            id,
            phone,
            name: field(name_at),
            balance: field(balance_at),
            due_date: field(due_at),
            vars,
            line,
        });
    }
    Ok(list)
}

/// The 1-based line a record starts on. csv's own line count skips blank
/// lines, and its byte position points at the blank lines before a record.
/// Records come in order, so the count goes on from the previous one
/// (counting from the top for every row would make a long list quadratic).
#[derive(Default)]
struct LineCounter {
    byte: usize,
    newlines: u64,
}

impl LineCounter {
    fn line_at(&mut self, text: &[u8], mut byte: usize) -> u64 {
        while matches!(text.get(byte), Some(b'\n' | b'\r')) {
            byte += 1;
        }
        let byte = byte.min(text.len());
        if byte < self.byte {
            *self = LineCounter::default();
        }
        self.newlines += text[self.byte..byte]
            .iter()
            .filter(|&&b| b == b'\n')
            .count() as u64;
        self.byte = byte;
        self.newlines + 1
    }
}

/// E.164 form of a phone number, or why it cannot be dialed.
pub fn normalize_phone(raw: &str, region: phonenumber::country::Id) -> Result<String, String> {
    if raw.is_empty() {
        return Err("is empty".into());
    }
    let number = phonenumber::parse(Some(region), raw)
        .map_err(|e| format!("'{raw}' is not a phone number ({e})"))?;
    if !phonenumber::is_valid(&number) {
        return Err(format!(
            "'{raw}' is not a valid number for region {region:?}"
        ));
    }
    Ok(number.format().mode(Mode::E164).to_string())
}

/// Windows-1252 to text. Bytes 0x80-0x9F are the typographic characters
/// Windows puts there (€, curly quotes, dashes); everything else is Latin-1.
fn decode_windows_1252(bytes: &[u8]) -> String {
    const HIGH: [char; 32] = [
        '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8D}', 'Ž',
        '\u{8F}', '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9D}',
        'ž', 'Ÿ',
    ];
    bytes
        .iter()
        .map(|&b| match b {
            0x80..=0x9F => HIGH[usize::from(b - 0x80)],
            _ => char::from(b),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use phonenumber::country::Id;

    fn load_str(text: &[u8]) -> Result<ContactList, ContactsError> {
        parse(Path::new("deudores.csv"), text, Id::MX)
    }

    #[test]
    fn reads_required_and_extra_columns_and_normalizes_phones() {
        let list = load_str(
            b"id,phone,name,balance,due_date,segment\n\
              C-1,55 1234 5678,Juan P\xC3\xA9rez,1234.50,2026-12-15,temprana\n\
              C-2,+52 33 1234 5678,Ana L\xC3\xB3pez,99,2026-12-01,tardia\n",
        )
        .unwrap();
        assert!(list.rejected.is_empty(), "{:?}", list.rejected);
        assert_eq!(list.encoding, TextEncoding::Utf8);
        let c = &list.contacts[0];
        assert_eq!(
            (c.id.as_str(), c.phone.as_str(), c.name.as_str()),
            ("C-1", "+525512345678", "Juan Pérez")
        );
        assert_eq!(c.vars.get("segment").map(String::as_str), Some("temprana"));
        assert_eq!(c.value("segment"), Some("temprana"));
        assert_eq!(
            c.value("saldo"),
            Some("1234.50"),
            "Spanish names of the required columns"
        );
        assert_eq!(c.value("due_date"), Some("2026-12-15"));
        assert_eq!(c.value("apodo"), None);
        assert_eq!(c.line, 2);
        assert_eq!(list.contacts[1].phone, "+523312345678");
    }

    #[test]
    fn bad_rows_are_reported_with_line_and_field_and_skipped() {
        let list = load_str(
            b"id,phone,name,balance,due_date\n\
              1,5512345678,A,1,2026-12-01\n\
              2,12,B,1,2026-12-01\n\
              ,5512345679,C,1,2026-12-01\n\
              1,5512345670,D,1,2026-12-01\n\
              5,5512345671,E\n\
              \n\
              6,,F,1,2026-12-01\n\
              7,5512345672,G,1,2026-12-01\n",
        )
        .unwrap();
        let ids: Vec<&str> = list.contacts.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, vec!["1", "7"]);
        let errors: Vec<String> = list.rejected.iter().map(|e| e.to_string()).collect();
        assert_eq!(errors.len(), 5, "{errors:#?}");
        assert!(
            errors[0].starts_with("deudores.csv:3: phone: '12'"),
            "{}",
            errors[0]
        );
        assert_eq!(errors[1], "deudores.csv:4: id: is empty");
        assert_eq!(
            errors[2],
            "deudores.csv:5: id: '1' was already used on line 2"
        );
        assert_eq!(
            errors[3],
            "deudores.csv:6: (row): has 3 fields, the header has 5"
        );
        assert_eq!(errors[4], "deudores.csv:8: phone: is empty");
    }

    #[test]
    fn latin1_semicolons_and_spanish_headers_are_accepted() {
        // "Teléfono", "Nombre" and "Muñoz" in Windows-1252, separated by ';'.
        let list = load_str(
            b"\xEF\xBB\xBFcliente;Tel\xE9fono;Nombre;Saldo;Vencimiento\n\
              A1;5512345678;Jos\xE9 Mu\xF1oz;1.234,50;15/12/2026\n",
        );
        // A BOM followed by non-UTF-8 bytes: the BOM is dropped, the rest is 1252.
        let list = list.unwrap();
        assert_eq!(list.encoding, TextEncoding::Windows1252);
        assert_eq!(list.delimiter, b';');
        assert_eq!(list.contacts[0].name, "José Muñoz");
        assert_eq!(list.contacts[0].balance, "1.234,50");
        assert_eq!(list.contacts[0].phone, "+525512345678");
    }

    #[test]
    fn wrong_header_names_the_missing_column() {
        let err = load_str(b"id,tel,name,balance,due_date\n1,5512345678,A,1,x\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "deudores.csv:1: the header has no phone column (found: id,tel,name,balance,due_date); expected at least id,phone,name,balance,due_date"
        );
        assert!(matches!(load_str(b""), Err(ContactsError::Empty { .. })));
        assert!(matches!(
            load_str(b"id,phone,phone,name,balance,due_date\n"),
            Err(ContactsError::DuplicateColumn { .. })
        ));
    }

    #[test]
    fn a_column_named_like_an_alias_keeps_its_own_value() {
        let list = load_str(b"id,phone,name,balance,due_date,cuenta\nC-9,5512345678,A,1,x,0412\n")
            .unwrap();
        assert_eq!(list.contacts[0].value("cuenta"), Some("0412"));
        assert_eq!(list.contacts[0].value("id"), Some("C-9"));
        let list = load_str(b"cuenta,phone,name,balance,due_date\nC-9,5512345678,A,1,x\n").unwrap();
        assert_eq!(
            list.contacts[0].value("cuenta"),
            Some("C-9"),
            "here cuenta is the id column"
        );
    }

    #[test]
    fn windows_1252_specials() {
        assert_eq!(decode_windows_1252(b"\x80 \x93hola\x94 \xF1"), "€ “hola” ñ");
    }
}
