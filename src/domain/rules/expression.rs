//! The `when` of an approval or assignment rule: a CEL expression (Common Expression Language,
//! the policy language of Kubernetes, Envoy and Google IAM), parsed and checked once at load
//! and then evaluated against each request or lead. Each kind of rule has its own set of
//! variables ([`Vars`]).
//!
//! The interpreter looks names up only when it reaches them, so a misspelt variable or
//! function in a branch that is rarely taken would fail months later; every name is checked
//! here instead, when the file is loaded.

use std::{
    collections::{BTreeSet, HashMap},
    fmt,
    sync::{Arc, LazyLock},
};

use cel::{
    Context, Env, ExecutionError, IdedExpr, ParseErrors, Program, Value,
    common::ast::{EntryExpr, Expr},
    objects::{Key, Map},
};

use super::facts::{ApprovalFacts, LeadFacts};

/// The variables an approval rule's expression can use and their CEL types, in the order the
/// docs list them. [`context`] sets exactly these.
pub(super) const VARIABLES: &[(&str, &str)] = &[
    ("kind", "string"),
    ("title", "string"),
    ("requester", "string"),
    ("amount", "double"),
    ("discount_pct", "double"),
    ("tenant", "string"),
    ("platform", "string"),
    ("fields", "map"),
    ("subject_type", "string"),
    ("subject_id", "string"),
];

/// The variables an assignment rule's expression can use and their CEL types, in the order
/// the docs list them. [`lead_context`] sets exactly these.
pub(super) const LEAD_VARIABLES: &[(&str, &str)] = &[
    ("name", "string"),
    ("company", "string"),
    ("region", "string"),
    ("industry", "string"),
    ("source", "string"),
    ("score", "double"),
    ("tags", "list"),
    ("tenant", "string"),
    ("fields", "map"),
];

/// Which variables an expression is written against: those of an approval request or those
/// of a lead. Checked at load, so a lead rule that names `discount_pct` is refused there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Vars {
    Approval,
    Lead,
}

impl Vars {
    fn names(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Self::Approval => VARIABLES,
            Self::Lead => LEAD_VARIABLES,
        }
    }

    /// Every variable set to its empty value: what the load-time type check evaluates.
    fn empty_context(self) -> Context<'static, 'static> {
        match self {
            Self::Approval => context(&ApprovalFacts::default()),
            Self::Lead => lead_context(&LeadFacts::default()),
        }
    }
}

/// CEL's standard functions and types, built once: every request's evaluation shares them.
static ENV: LazyLock<Arc<Env>> = LazyLock::new(|| Arc::new(Env::stdlib()));

/// A compiled `when`. Compared and shown by its text: two rules with the same text behave
/// the same.
#[derive(Clone)]
pub(super) struct Expression {
    source: String,
    program: Arc<Program>,
}

/// Why an expression gave no answer for one request.
#[derive(Debug)]
pub(super) enum Failure {
    /// The expression gave a value of this CEL type instead of a boolean.
    NotBoolean(String),
    /// The interpreter's message, for example for a key missing from `fields`.
    Error(String),
}

impl Expression {
    /// Parses `source` and checks that it uses only the variables of `vars` and known
    /// functions, and that it gives a boolean when every variable is empty. The error is the
    /// reason to report.
    pub(super) fn compile(source: &str, vars: Vars) -> Result<Self, String> {
        let program = ENV.compile(source).map_err(|e| syntax_reason(source, &e))?;
        check_names(&program, vars.names())?;
        let expression = Self {
            source: source.to_string(),
            program: Arc::new(program),
        };
        // Other failures on the empty request (a key missing from its empty `fields`) are
        // expected; only a result of the wrong type shows the expression itself is wrong.
        if let Err(Failure::NotBoolean(got)) = expression.evaluate(&vars.empty_context()) {
            let example = match vars {
                Vars::Approval => "amount > 10000.0",
                Vars::Lead => "score > 60.0",
            };
            return Err(format!(
                "`when` gives a {got}, not true or false; compare it, as in `{example}`"
            ));
        }
        Ok(expression)
    }

    pub(super) fn source(&self) -> &str {
        &self.source
    }

    /// Evaluates the expression with the variables of `context` (made by [`context`]).
    pub(super) fn evaluate(&self, context: &Context<'_, '_>) -> Result<bool, Failure> {
        match self.program.execute(context) {
            Ok(Value::Bool(answer)) => Ok(answer),
            Ok(other) => Err(Failure::NotBoolean(other.type_of().to_string())),
            Err(e) => Err(Failure::Error(e.to_string())),
        }
    }
}

impl fmt::Debug for Expression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Expression").field(&self.source).finish()
    }
}

impl PartialEq for Expression {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl Eq for Expression {}

/// The variables of [`VARIABLES`] for one request, with the interpreter's standard functions.
/// Made once per request and shared by every rule evaluated for it.
pub(super) fn context(facts: &ApprovalFacts) -> Context<'static, 'static> {
    let mut context = Context::with_env(Arc::clone(&ENV));
    for (name, value) in [
        ("kind", text(&facts.kind)),
        ("title", text(&facts.title)),
        ("requester", text(&facts.requester)),
        ("amount", Value::Float(facts.amount)),
        ("discount_pct", Value::Float(facts.discount_pct)),
        ("tenant", text(&facts.tenant)),
        ("platform", text(&facts.platform)),
        ("fields", map(&facts.fields)),
        ("subject_type", text(&facts.subject_type)),
        ("subject_id", text(&facts.subject_id)),
    ] {
        context.add_variable_from_value(name, value);
    }
    context
}

/// The variables of [`LEAD_VARIABLES`] for one lead, with the interpreter's standard
/// functions. Made once per lead and shared by every rule evaluated for it.
pub(super) fn lead_context(facts: &LeadFacts) -> Context<'static, 'static> {
    let tags = facts.tags.iter().map(|tag| text(tag)).collect::<Vec<_>>();
    let mut context = Context::with_env(Arc::clone(&ENV));
    for (name, value) in [
        ("name", text(&facts.name)),
        ("company", text(&facts.company)),
        ("region", text(&facts.region)),
        ("industry", text(&facts.industry)),
        ("source", text(&facts.source)),
        ("score", Value::Float(facts.score)),
        ("tags", Value::List(Arc::new(tags))),
        ("tenant", text(&facts.tenant)),
        ("fields", map(&facts.fields)),
    ] {
        context.add_variable_from_value(name, value);
    }
    context
}

fn text(s: &str) -> Value {
    Value::String(Arc::new(s.to_string()))
}

/// Free-form fields as a CEL map.
fn map(fields: &std::collections::BTreeMap<String, serde_json::Value>) -> Value {
    let map = fields
        .iter()
        .map(|(key, value)| (Key::from(key.as_str()), json(value)))
        .collect::<HashMap<_, _>>();
    Value::Map(Map { map: Arc::new(map) })
}

/// A JSON value as CEL sees it: whole numbers are `int` (or `uint` past `i64`), others
/// `double`, so that `fields.seats > 10` and `fields.rate > 0.5` both read naturally.
fn json(value: &serde_json::Value) -> Value {
    use serde_json::Value as Json;
    match value {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => Value::Int(i),
            (None, Some(u)) => Value::UInt(u),
            (None, None) => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Json::String(s) => Value::String(Arc::new(s.clone())),
        Json::Array(items) => Value::List(Arc::new(items.iter().map(json).collect())),
        Json::Object(map) => Value::Map(Map {
            map: Arc::new(
                map.iter()
                    .map(|(key, value)| (Key::from(key.as_str()), json(value)))
                    .collect(),
            ),
        }),
    }
}

/// The parser's messages on one line each, with where in the expression they are. The
/// parser's own rendering spans several lines, which would break one problem per line.
fn syntax_reason(source: &str, errors: &ParseErrors) -> String {
    let multi_line = source.contains('\n');
    let messages = errors
        .errors
        .iter()
        .map(|e| {
            let (line, column) = e.pos;
            if multi_line {
                format!("{} (line {line}, column {column})", e.msg)
            } else {
                format!("{} (column {column})", e.msg)
            }
        })
        .collect::<Vec<_>>();
    format!("`when` is not valid CEL: {}", messages.join("; "))
}

/// Refuses variables and functions that neither `known` nor CEL provides.
fn check_names(program: &Program, known_variables: &[(&str, &str)]) -> Result<(), String> {
    let mut names = Names::default();
    names.collect(program.expression(), &mut Vec::new());
    let variables = names
        .variables
        .into_iter()
        .filter(|name| !known_variables.iter().any(|(known, _)| known == name))
        .filter(|name| undeclared(name, name))
        .collect::<Vec<_>>();
    if !variables.is_empty() {
        let known = known_variables
            .iter()
            .map(|(name, _)| *name)
            .collect::<Vec<_>>();
        return Err(format!(
            "`when` uses unknown variable {}; the variables are: {}",
            quoted(&variables),
            known.join(", ")
        ));
    }
    let functions = names
        .functions
        .into_iter()
        .filter(|&(name, member)| {
            let call = if member {
                format!("null.{name}()")
            } else {
                format!("{name}()")
            };
            undeclared(&call, name)
        })
        .map(|(name, _)| name)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect::<Vec<_>>();
    if !functions.is_empty() {
        return Err(format!(
            "`when` calls unknown function {}; docs/rules.md lists the functions",
            quoted(&functions)
        ));
    }
    Ok(())
}

/// Whether the interpreter knows nothing called `name`, asked by running `probe` (which uses
/// it) with no variables set. Asking the interpreter rather than keeping a list means a name
/// is accepted exactly when it would work: type names such as `string`, and functions by
/// whether they are called as `f(x)` or `x.f()`.
fn undeclared(probe: &str, name: &str) -> bool {
    let Ok(program) = ENV.compile(probe) else {
        return true;
    };
    matches!(
        program.execute(&Context::with_env(Arc::clone(&ENV))),
        Err(ExecutionError::UndeclaredReference(n)) if n.as_str() == name
    )
}

fn quoted(names: &[&str]) -> String {
    names
        .iter()
        .map(|name| format!("`{name}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The names an expression uses without binding them itself, and the functions it calls
/// (with whether as a method, `x.f()`).
#[derive(Default)]
struct Names<'a> {
    variables: BTreeSet<&'a str>,
    functions: BTreeSet<(&'a str, bool)>,
}

impl<'a> Names<'a> {
    /// Walks `expr`; `bound` holds the names that enclosing macros bind, as `x` in
    /// `list.exists(x, x > 1)`, which are no variables of the request.
    fn collect(&mut self, expr: &'a IdedExpr, bound: &mut Vec<&'a str>) {
        match &expr.expr {
            Expr::Ident(name) => {
                if !bound.contains(&name.as_str()) {
                    self.variables.insert(name);
                }
            }
            Expr::Call(call) => {
                if !is_operator(&call.func_name) {
                    self.functions
                        .insert((&call.func_name, call.target.is_some()));
                }
                if let Some(target) = &call.target {
                    self.collect(target, bound);
                }
                for arg in &call.args {
                    self.collect(arg, bound);
                }
            }
            Expr::Comprehension(c) => {
                self.collect(&c.iter_range, bound);
                self.collect(&c.accu_init, bound);
                let outer = bound.len();
                bound.push(&c.iter_var);
                bound.extend(c.iter_var2.as_deref());
                bound.push(&c.accu_var);
                for part in [&c.loop_cond, &c.loop_step, &c.result] {
                    self.collect(part, bound);
                }
                bound.truncate(outer);
            }
            Expr::List(list) => {
                for element in &list.elements {
                    self.collect(element, bound);
                }
            }
            Expr::Map(map) => {
                for entry in &map.entries {
                    self.collect_entry(&entry.expr, bound);
                }
            }
            Expr::Struct(s) => {
                for entry in &s.entries {
                    self.collect_entry(&entry.expr, bound);
                }
            }
            Expr::Select(select) => self.collect(&select.operand, bound),
            Expr::Literal(_) | Expr::Unspecified => {}
        }
    }

    fn collect_entry(&mut self, entry: &'a EntryExpr, bound: &mut Vec<&'a str>) {
        match entry {
            EntryExpr::MapEntry(e) => {
                self.collect(&e.key, bound);
                self.collect(&e.value, bound);
            }
            EntryExpr::StructField(f) => self.collect(&f.value, bound),
        }
    }
}

/// The parser names operators `_&&_`, `!_`, `-_`, `@in`, …; no function can be written so.
fn is_operator(name: &str) -> bool {
    name.starts_with(['_', '@']) || name.ends_with('_')
}
