//! Approval rules and roles: every kind of problem the file can have, with the line it is
//! reported on.

use super::*;

fn problems(text: &str) -> Vec<Problem> {
    match Rules::parse(text, "rules.toml") {
        Ok(rules) => panic!("expected problems, got {rules:?}"),
        Err(e) => e.problems().to_vec(),
    }
}

/// The single problem of an invalid file, as (line, reason).
fn problem(text: &str) -> (usize, String) {
    let all = problems(text);
    assert_eq!(all.len(), 1, "{all:#?}");
    (all[0].line, all[0].reason.clone())
}

/// The problem of a file with one approval rule whose `when` is `when`.
fn when_problem(when: &str) -> (usize, String) {
    problem(&format!(
        "[[approval]]\nname = \"r\"\nwhen = '''{when}'''\nlevels = [{{ approvers = [\"manager\"] }}]\n"
    ))
}

#[test]
fn a_syntax_error_in_when_is_refused_on_its_line_with_the_parsers_message() {
    let text = "[[approval]]\nname = \"big discount\"\n\nwhen = 'kind == \"discount\" && discount_pct >'\nlevels = [{ approvers = [\"manager\"] }]\n";
    let all = problems(text);
    assert_eq!(all.len(), 1, "{all:#?}");
    let p = &all[0];
    assert_eq!(p.line, 4);
    assert_eq!(
        p.rule.as_ref().unwrap().to_string(),
        "approval[0] \"big discount\""
    );
    assert!(
        p.reason
            .starts_with("`when` is not valid CEL: Syntax error: mismatched input '<EOF>'"),
        "{}",
        p.reason
    );
    assert!(p.reason.ends_with("(column 37)"), "{}", p.reason);
    assert_eq!(p.to_string().lines().count(), 1);

    let (line, reason) = when_problem("kind == \"discount\" &&\n  discount_pct > 15.0 )");
    assert_eq!(line, 3);
    assert!(reason.ends_with("(line 2, column 23)"), "{reason}");
}

#[test]
fn an_unknown_variable_is_refused_at_load() {
    let (line, reason) = when_problem("kind == \"discount\" && discont_pct > 15.0");
    assert_eq!(line, 3);
    assert_eq!(
        reason,
        "`when` uses unknown variable `discont_pct`; the variables are: kind, title, requester, \
         amount, discount_pct, tenant, platform, fields, subject_type, subject_id"
    );
    // Even in a branch that the empty request never reaches.
    let (_, reason) =
        when_problem("kind == \"contract\" && (region == \"east\" || regoin == \"w\")");
    assert!(
        reason.starts_with("`when` uses unknown variable `region`, `regoin`;"),
        "{reason}"
    );
    // A name a macro binds is a variable only inside the macro.
    let (_, reason) = when_problem("fields.tags.exists(t, t == \"vip\") && t == \"x\"");
    assert!(
        reason.starts_with("`when` uses unknown variable `t`;"),
        "{reason}"
    );
}

#[test]
fn an_unknown_function_is_refused_at_load() {
    let (line, reason) = when_problem("kind == \"contract\" || title.startswith(\"框架\")");
    assert_eq!(line, 3);
    assert_eq!(
        reason,
        "`when` calls unknown function `startswith`; docs/rules.md lists the functions"
    );
    // `contains` exists as a method, not as a function.
    let (_, reason) = when_problem("contains(title, \"框架\")");
    assert!(
        reason.starts_with("`when` calls unknown function `contains`"),
        "{reason}"
    );
}

#[test]
fn a_when_that_never_gives_a_boolean_is_refused_at_load() {
    let (line, reason) = when_problem("amount * 0.1");
    assert_eq!(line, 3);
    assert_eq!(
        reason,
        "`when` gives a float, not true or false; compare it, as in `amount > 10000.0`"
    );
}

#[test]
fn a_missing_or_empty_when_is_refused() {
    let (line, reason) =
        problem("[[approval]]\nname = \"r\"\nlevels = [{ approvers = [\"manager\"] }]\n");
    assert_eq!(line, 1);
    assert!(reason.starts_with("has no `when`;"), "{reason}");
    let (line, reason) = when_problem(" ");
    assert_eq!(line, 3);
    assert!(reason.starts_with("`when` is empty;"), "{reason}");
}

#[test]
fn an_unknown_role_is_refused_on_the_line_of_the_approver() {
    let text = r#"[[approval]]
name = "r"
when = 'true'
levels = [
  { approvers = ["manager"] },
  { approvers = ["role:finanse"] },
]

[roles]
finance = ["zhao.min"]
legal = ["sun.li"]
"#;
    let (line, reason) = problem(text);
    assert_eq!(line, 6);
    assert_eq!(
        reason,
        "unknown role `finanse`; the roles in [roles] are: finance, legal"
    );
    let text = "[[approval]]\nname = \"r\"\nwhen = 'true'\nlevels = [{ approvers = [\"role:finance\"] }]\n";
    assert_eq!(
        problem(text),
        (
            4,
            "unknown role `finance`; no roles are defined: add it under [roles]".to_string()
        )
    );
}

#[test]
fn a_bad_mode_is_refused_on_its_line() {
    let text = "[[approval]]\nname = \"r\"\nwhen = 'true'\nlevels = [\n  { approvers = [\"manager\"], mode = \"most\" },\n]\n";
    assert_eq!(
        problem(text),
        (
            5,
            "unknown variant `most`, expected `any` or `all`".to_string()
        )
    );
}

#[test]
fn a_rule_without_levels_is_refused() {
    let text = "[[approval]]\nname = \"r\"\nwhen = 'true'\nlevels = []\n";
    assert_eq!(
        problem(text),
        (
            4,
            "`levels` lists nothing; a rule needs at least one level of approvers".to_string()
        )
    );
    let text = "[[approval]]\nname = \"r\"\nwhen = 'true'\n";
    assert_eq!(problem(text), (1, "missing field `levels`".to_string()));
}

#[test]
fn more_than_ten_levels_are_refused() {
    let level = "  { approvers = [\"manager\"] },\n";
    let ten = format!(
        "[[approval]]\nname = \"r\"\nwhen = 'true'\nlevels = [\n{}]\n",
        level.repeat(MAX_LEVELS)
    );
    assert_eq!(
        Rules::parse(&ten, "rules.toml").unwrap().approval()[0]
            .levels()
            .len(),
        10
    );
    let eleven = format!(
        "[[approval]]\nname = \"r\"\nwhen = 'true'\n\nlevels = [\n{}]\n",
        level.repeat(MAX_LEVELS + 1)
    );
    assert_eq!(
        problem(&eleven),
        (5, "has 11 levels; at most 10".to_string())
    );
}

#[test]
fn a_level_needs_one_to_twenty_approvers() {
    let text = "[[approval]]\nname = \"r\"\nwhen = 'true'\nlevels = [\n  { approvers = [\"manager\"] },\n  { approvers = [] },\n]\n";
    assert_eq!(
        problem(text),
        (
            6,
            "a level's `approvers` lists nobody; list at least one".to_string()
        )
    );
    let ids = |n: usize| {
        (0..n)
            .map(|i| format!("\"user{i}\""))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let text = |n: usize| {
        format!(
            "[[approval]]\nname = \"r\"\nwhen = 'true'\nlevels = [{{ approvers = [{}] }}]\n",
            ids(n)
        )
    };
    assert!(Rules::parse(&text(MAX_APPROVERS), "rules.toml").is_ok());
    assert_eq!(
        problem(&text(MAX_APPROVERS + 1)),
        (4, "a level lists 21 approvers; at most 20".to_string())
    );
}

#[test]
fn a_duplicate_or_empty_rule_name_is_refused() {
    let text = "[[approval]]\nname = \"big\"\nwhen = 'true'\nlevels = [{ approvers = [\"manager\"] }]\n\n[[approval]]\nname = \"big\"\nwhen = 'true'\nlevels = [{ approvers = [\"manager\"] }]\n";
    let all = problems(text);
    assert_eq!(all.len(), 1, "{all:#?}");
    assert_eq!(all[0].line, 7);
    assert_eq!(all[0].rule.as_ref().unwrap().index, 1);
    assert_eq!(
        all[0].reason,
        "the name \"big\" is already used by approval[0] on line 2"
    );
    // Tagging and approval rules are named apart.
    let text = "[[tagging]]\nname = \"big\"\nwhen.rep = \"lina\"\ntags = [\"g/t\"]\n\n[[approval]]\nname = \"big\"\nwhen = 'true'\nlevels = [{ approvers = [\"manager\"] }]\n";
    assert!(Rules::parse(text, "rules.toml").is_ok());

    let text =
        "[[approval]]\nname = \" \"\nwhen = 'true'\nlevels = [{ approvers = [\"manager\"] }]\n";
    let (line, reason) = problem(text);
    assert_eq!(line, 2);
    assert!(reason.starts_with("`name` is empty;"), "{reason}");
}

#[test]
fn a_bad_user_id_is_refused_on_its_line() {
    let text = "[[approval]]\nname = \"r\"\nwhen = 'true'\nlevels = [\n  { approvers = [\n    \"li.lei\",\n    \"li lei\",\n  ] },\n]\n";
    assert_eq!(
        problem(text),
        (
            7,
            "\"li lei\" is not an approver: write `manager`, `role:<name>` or a user id (a user \
             id is 1 to 64 letters, digits, `.`, `_`, `-` or `@`)"
                .to_string()
        )
    );
    let long = "a".repeat(MAX_USER_ID_CHARS + 1);
    for bad in ["", "王芳", "role", "li:lei", long.as_str()] {
        let text = format!(
            "[[approval]]\nname = \"r\"\nwhen = 'true'\nlevels = [{{ approvers = [\"{bad}\"] }}]\n"
        );
        let all = Rules::parse(&text, "rules.toml");
        // "role" alone is a user id; the rest are not.
        assert_eq!(all.is_ok(), bad == "role", "{bad}");
    }
}

#[test]
fn unknown_keys_in_a_rule_or_a_level_are_refused_on_their_lines() {
    let text = "[[approval]]\nname = \"r\"\nwhen = 'true'\napprover = \"li.lei\"\nlevels = [{ approvers = [\"manager\"] }]\n";
    let (line, reason) = problem(text);
    assert_eq!(line, 4);
    assert!(
        reason.starts_with("unknown field `approver`, expected one of `name`, `when`, `levels`"),
        "{reason}"
    );
    let text = "[[approval]]\nname = \"r\"\nwhen = 'true'\nlevels = [\n  { approvers = [\"manager\"], quorum = 2 },\n]\n";
    let (line, reason) = problem(text);
    assert_eq!(line, 5);
    assert!(
        reason.starts_with("unknown field `quorum`, expected `approvers` or `mode`"),
        "{reason}"
    );
}

#[test]
fn bad_roles_are_refused_on_their_lines() {
    let long = "r".repeat(MAX_ROLE_CHARS + 1);
    let text = format!(
        "[roles]\nFinance = [\"zhao.min\"]\nlegal = []\nsales = \"wang.fang\"\nops = [\"ok\", \"not ok\"]\n{long} = [\"a\"]\nkey_accounts = [\"zhangwei\"]\n"
    );
    let got: Vec<(usize, String)> = problems(&text)
        .into_iter()
        .map(|p| (p.line, p.reason))
        .collect();
    let want = [
        (
            2,
            "role `Finance`: a role name is 1 to 32 of a-z, 0-9 and `_`".to_string(),
        ),
        (
            3,
            "role `legal` lists nobody; list at least one user id".to_string(),
        ),
        (
            4,
            "role `sales` must be a list of user ids: invalid type: string \"wang.fang\", expected a sequence".to_string(),
        ),
        (
            5,
            "role `ops`: \"not ok\" is not a user id; a user id is 1 to 64 letters, digits, `.`, `_`, `-` or `@`".to_string(),
        ),
        (
            6,
            format!("role `{long}`: a role name is 1 to 32 of a-z, 0-9 and `_`"),
        ),
    ];
    assert_eq!(got, want);

    let (line, reason) = problem("[[roles]]\nfinance = [\"zhao.min\"]\n");
    assert_eq!(line, 1);
    assert!(reason.starts_with("`roles` must be a table"), "{reason}");
}

#[test]
fn every_problem_of_approval_rules_and_roles_is_reported_in_line_order() {
    let text = r#"[[approval]]
name = "one"
when = 'amont > 1.0'
levels = [{ approvers = ["role:finanse"] }]

[[approval]]
name = "one"
when = 'true'
levels = []

[roles]
finance = ["zhao min"]
"#;
    let e = Rules::parse(text, "rules.toml").unwrap_err();
    let lines: Vec<_> = e.problems().iter().map(|p| p.line).collect();
    assert_eq!(lines, [3, 4, 7, 9, 12]);
    assert_eq!(e.to_string().lines().count(), 5);
    assert!(
        e.to_string()
            .contains("rules.toml:4: approval[0] \"one\": unknown role `finanse`; the roles in [roles] are: finance"),
        "{e}"
    );
}
