//! Loading: embedded defaults, then the TOML file, then `SALESBOT_*` overrides, then `env:`
//! indirection, then typed deserialization and validation.
//!
//! The defaults are serialized into the same TOML tree as the file so that an environment
//! override knows the type of the key it sets (`SALESBOT_SERVER__BODY_LIMIT_BYTES=2048` is a
//! number, `SALESBOT_ADMIN__TOKEN=123` stays a string).

use std::{collections::HashMap, ffi::OsString, path::PathBuf};

use toml::{Table, Value};

use super::{Config, ConfigError, Origin};

/// Prefix of the variables that override keys.
const ENV_PREFIX: &str = "SALESBOT_";
/// Separator between levels in an override variable's name.
const ENV_SEPARATOR: &str = "__";
/// Prefix of a value that names another environment variable holding the real value.
const ENV_INDIRECTION: &str = "env:";

/// The inputs of a load: an optional file and a snapshot of the environment. Tests build one by
/// hand; `main` takes the process's.
#[derive(Debug, Clone, Default)]
pub struct ConfigSource {
    pub file: Option<PathBuf>,
    pub env: HashMap<String, String>,
}

/// A loaded, validated configuration and where it came from.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub config: Config,
    pub origin: Origin,
}

impl ConfigSource {
    /// The given file (if any) and the process environment. Variables whose name or value is
    /// not Unicode are skipped: none of ours can be like that.
    pub fn from_process(file: Option<PathBuf>) -> Self {
        let env = std::env::vars_os()
            .filter_map(|(k, v): (OsString, OsString)| {
                Some((k.into_string().ok()?, v.into_string().ok()?))
            })
            .collect();
        Self { file, env }
    }

    pub fn load(&self) -> Result<Loaded, ConfigError> {
        let mut tree = match Value::try_from(Config::default()) {
            Ok(Value::Table(table)) => table,
            _ => unreachable!("the default configuration serializes to a table"),
        };
        let origin = match &self.file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.clone(),
                    source,
                })?;
                let file: Table =
                    text.parse()
                        .map_err(|e: toml::de::Error| ConfigError::Syntax {
                            path: path.clone(),
                            message: e.to_string().trim_end().to_string(),
                        })?;
                merge(&mut tree, file);
                Origin::File(path.clone())
            }
            None => Origin::Defaults,
        };

        let origins = self.apply_overrides(&mut tree)?;
        if let Some(filter) = self.env.get("RUST_LOG").filter(|f| !f.is_empty())
            && let Some(Value::Table(log)) = tree.get_mut("log")
        {
            log.insert("filter".into(), Value::String(filter.clone()));
        }
        self.resolve_indirection(&mut tree, &mut String::new(), &origins)?;

        let config: Config = serde_path_to_error::deserialize(Value::Table(tree)).map_err(|e| {
            let key = e.path().to_string();
            // The TOML deserializer appends "in `table`"; the key says that already.
            let reason = e
                .inner()
                .to_string()
                .lines()
                .next()
                .unwrap_or_default()
                .to_string();
            let key = missing_field_key(key, &reason);
            ConfigError::Key {
                origin: origins.get(&key).cloned(),
                key,
                reason,
            }
        })?;
        config.validate()?;
        Ok(Loaded { config, origin })
    }

    /// Applies every `SALESBOT_SECTION__KEY` variable; returns which variable set which key.
    /// Variables without `__` (such as `SALESBOT_CONFIG`, or a secret named by `env:`) are not
    /// overrides.
    fn apply_overrides(&self, tree: &mut Table) -> Result<HashMap<String, String>, ConfigError> {
        let mut origins = HashMap::new();
        let mut vars: Vec<_> = self
            .env
            .iter()
            .filter(|(k, _)| k.starts_with(ENV_PREFIX) && k.contains(ENV_SEPARATOR))
            .collect();
        vars.sort();
        for (var, value) in vars {
            let segments: Vec<String> = var[ENV_PREFIX.len()..]
                .split(ENV_SEPARATOR)
                .map(str::to_ascii_lowercase)
                .collect();
            if segments.iter().any(String::is_empty) {
                return Err(ConfigError::Env {
                    var: var.clone(),
                    reason: "empty level in the name (use `__` between levels)".into(),
                });
            }
            let key = set_path(tree, &segments, value).map_err(|reason| ConfigError::Env {
                var: var.clone(),
                reason,
            })?;
            origins.insert(key, var.clone());
        }
        Ok(origins)
    }

    /// Replaces every string value `env:NAME` by the value of the variable NAME.
    fn resolve_indirection(
        &self,
        value: &mut Table,
        path: &mut String,
        origins: &HashMap<String, String>,
    ) -> Result<(), ConfigError> {
        for (name, child) in value.iter_mut() {
            let len = path.len();
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(name);
            self.resolve_value(child, path, origins)?;
            path.truncate(len);
        }
        Ok(())
    }

    fn resolve_value(
        &self,
        value: &mut Value,
        path: &mut String,
        origins: &HashMap<String, String>,
    ) -> Result<(), ConfigError> {
        match value {
            Value::String(s) if s.starts_with(ENV_INDIRECTION) => {
                let var = &s[ENV_INDIRECTION.len()..];
                let fail = |reason: String| ConfigError::Key {
                    key: path.clone(),
                    reason,
                    origin: origins.get(path.as_str()).cloned(),
                };
                if var.is_empty() {
                    return Err(fail("`env:` must be followed by a variable name".into()));
                }
                match self.env.get(var) {
                    Some(resolved) => *s = resolved.clone(),
                    None => {
                        return Err(fail(format!(
                            "environment variable {var} (named by `env:{var}`) is not set"
                        )));
                    }
                }
            }
            Value::Table(table) => self.resolve_indirection(table, path, origins)?,
            Value::Array(items) => {
                for (i, item) in items.iter_mut().enumerate() {
                    let len = path.len();
                    path.push_str(&format!("[{i}]"));
                    self.resolve_value(item, path, origins)?;
                    path.truncate(len);
                }
            }
            _ => {}
        }
        Ok(())
    }
}

/// Deep-merges `over` into `base`: tables merge key by key, anything else replaces.
fn merge(base: &mut Table, over: Table) {
    for (key, value) in over {
        match (base.get_mut(&key), value) {
            (Some(Value::Table(b)), Value::Table(o)) => merge(b, o),
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

/// Sets `segments` (numbers index arrays) to `raw`, typed like the value it replaces.
/// Returns the key in the same notation as deserialization errors (`a.b[0].c`).
fn set_path(tree: &mut Table, segments: &[String], raw: &str) -> Result<String, String> {
    let mut key = String::new();
    let mut slot: &mut Value = {
        let first = &segments[0];
        key.push_str(first);
        tree.entry(first.clone())
            .or_insert_with(|| Value::Table(Table::new()))
    };
    for segment in &segments[1..] {
        slot = match slot {
            Value::Table(table) => {
                key.push('.');
                key.push_str(segment);
                table
                    .entry(segment.clone())
                    .or_insert_with(|| Value::Table(Table::new()))
            }
            Value::Array(items) => {
                let index: usize = segment
                    .parse()
                    .map_err(|_| format!("`{key}` is a list: the next level must be an index"))?;
                let len = items.len();
                key.push_str(&format!("[{index}]"));
                items.get_mut(index).ok_or_else(|| {
                    format!("index {index} is out of range: `{key}` has {len} entries")
                })?
            }
            _ => return Err(format!("`{key}` is a single value, not a section")),
        };
    }
    // An override that creates a new section has nothing to type it by; it becomes a table
    // only when it has deeper levels, so an empty table here means "new leaf".
    let typed = match &*slot {
        Value::Integer(_) => Value::Integer(
            raw.trim()
                .parse()
                .map_err(|_| format!("`{key}` must be a whole number, not {raw:?}"))?,
        ),
        Value::Float(_) => Value::Float(
            raw.trim()
                .parse()
                .map_err(|_| format!("`{key}` must be a number, not {raw:?}"))?,
        ),
        Value::Boolean(_) => Value::Boolean(match raw.trim() {
            "true" => true,
            "false" => false,
            _ => return Err(format!("`{key}` must be true or false, not {raw:?}")),
        }),
        Value::Array(_) => {
            let doc: Table = format!("v = {raw}")
                .parse()
                .map_err(|_| format!("`{key}` must be a TOML list such as [\"a\", \"b\"]"))?;
            doc["v"].clone()
        }
        Value::Table(t) if !t.is_empty() => {
            return Err(format!("`{key}` is a section, not a single value"));
        }
        _ => Value::String(raw.to_string()),
    };
    *slot = typed;
    Ok(key)
}

/// serde reports a missing field at its parent's path; name the field itself instead.
fn missing_field_key(parent: String, reason: &str) -> String {
    let field = reason
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next());
    match field {
        Some(field) if parent == "." => field.to_string(),
        Some(field) => format!("{parent}.{field}"),
        None => parent,
    }
}
