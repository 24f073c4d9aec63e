//! Which file each template comes from: the embedded default, or a file of the same name in the
//! override folder.

use std::{fs, path::Path};

use super::{Problem, embedded, locale_index};
use crate::cards::{LOCALES, MessageKind};

/// The text of the template of one kind in one locale.
#[derive(Debug)]
pub(super) struct Source {
    pub kind: MessageKind,
    pub locale: &'static str,
    /// As shown in errors: `message-templates/<name>` or the path of the override.
    pub file: String,
    pub text: String,
}

/// The source of every kind and locale, in slot order (see [`super::slot`]): the embedded
/// defaults with the files of `dir` in their place. Problems with the folder or with a file
/// name go to `problems`; such files are not used.
pub(super) fn gather(dir: Option<&Path>, problems: &mut Vec<Problem>) -> Vec<Source> {
    let mut sources: Vec<Source> = embedded::FILES
        .iter()
        .filter_map(|&(name, text)| {
            let (kind, locale) = parse_name(name)?;
            Some(Source {
                kind,
                locale,
                file: format!("{}/{name}", embedded::FOLDER),
                text: text.to_owned(),
            })
        })
        .collect();
    sources.sort_by_key(|source| super::slot(source.kind, locale_index(source.locale)));
    if let Some(dir) = dir {
        for (path, name) in toml_files(dir, problems) {
            let file = path.display().to_string();
            let Some((kind, locale)) = parse_name(&name) else {
                problems.push(Problem {
                    file,
                    line: None,
                    field: None,
                    reason: bad_name_reason(),
                });
                continue;
            };
            match fs::read_to_string(&path) {
                Ok(text) => {
                    let slot = super::slot(kind, locale_index(locale));
                    if let Some(source) = sources.get_mut(slot) {
                        *source = Source {
                            kind,
                            locale,
                            file,
                            text,
                        };
                    }
                }
                Err(error) => problems.push(Problem {
                    file,
                    line: None,
                    field: None,
                    reason: format!("cannot read: {error}"),
                }),
            }
        }
    }
    sources
}

/// The `*.toml` files directly in `dir` with their names, sorted so errors come in a stable
/// order. Other files (a README, say) are not templates and are left alone.
fn toml_files(dir: &Path, problems: &mut Vec<Problem>) -> Vec<(std::path::PathBuf, String)> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) => {
            problems.push(Problem {
                file: dir.display().to_string(),
                line: None,
                field: None,
                reason: format!("cannot read the template folder: {error}"),
            });
            return Vec::new();
        }
    };
    let mut files = Vec::new();
    for entry in entries {
        let entry = match entry {
            Ok(entry) => entry,
            Err(error) => {
                problems.push(Problem {
                    file: dir.display().to_string(),
                    line: None,
                    field: None,
                    reason: format!("cannot list the template folder: {error}"),
                });
                continue;
            }
        };
        let path = entry.path();
        let is_toml = path.extension().is_some_and(|ext| ext == "toml");
        if !is_toml || path.is_dir() {
            continue;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        files.push((path, name));
    }
    files.sort();
    files
}

/// The kind and locale of a file named `<kind>.<locale>.toml`.
fn parse_name(name: &str) -> Option<(MessageKind, &'static str)> {
    let stem = name.strip_suffix(".toml")?;
    let (kind, locale) = stem.split_once('.')?;
    let kind = kind.parse().ok()?;
    let locale = LOCALES.iter().copied().find(|&known| known == locale)?;
    Some((kind, locale))
}

fn bad_name_reason() -> String {
    let kinds: Vec<&str> = MessageKind::ALL.iter().map(|kind| kind.as_str()).collect();
    format!(
        "not a template name: expected <kind>.<locale>.toml with kind one of {} and locale one of {}",
        kinds.join(", "),
        LOCALES.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_kind_dot_locale_dot_toml() {
        assert_eq!(
            parse_name("approval_request.en.toml"),
            Some((MessageKind::ApprovalRequest, "en"))
        );
        assert_eq!(
            parse_name("kpi_alert.zh-CN.toml"),
            Some((MessageKind::KpiAlert, "zh-CN"))
        );
        assert_eq!(parse_name("kpi_alert.fr.toml"), None);
        assert_eq!(parse_name("kpi_alerts.en.toml"), None);
        assert_eq!(parse_name("kpi_alert.toml"), None);
        assert_eq!(parse_name("kpi_alert.en.txt"), None);
    }

    #[test]
    fn every_kind_and_locale_has_an_embedded_default() {
        let mut problems = Vec::new();
        let sources = gather(None, &mut problems);
        assert!(problems.is_empty());
        assert_eq!(sources.len(), MessageKind::ALL.len() * LOCALES.len());
        for (slot, source) in sources.iter().enumerate() {
            assert_eq!(
                super::super::slot(source.kind, locale_index(source.locale)),
                slot
            );
        }
    }
}
