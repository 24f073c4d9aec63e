//! Assignment rules and pools: which rule takes a lead, the lead variables of `when`, and
//! every kind of problem with the line it is reported on.

use std::collections::BTreeMap;

use super::{expression::LEAD_VARIABLES, *};

const POOLS: &str = r#"
[pools.east-manufacturing]
members = ["li.lei", "han.mei", "zhang.wei"]
strategy = "least_loaded"
manager = "wang.fang"

[pools.general]
members = ["chen.jing", "zhao.min"]
manager = "wang.fang"
platform = "dingtalk"
"#;

fn rules(assignment: &str) -> Rules {
    Rules::parse(&format!("{POOLS}\n{assignment}"), "rules.toml").unwrap()
}

fn lead() -> LeadFacts {
    LeadFacts {
        name: "张伟".into(),
        company: "苏州恒远精密机械有限公司".into(),
        region: "华东".into(),
        industry: "制造业".into(),
        source: "crm".into(),
        score: 62.5,
        tags: vec!["展会".into(), "vip".into()],
        tenant: "acme".into(),
        fields: BTreeMap::from([("budget".to_owned(), serde_json::json!(200000))]),
    }
}

fn problems(text: &str) -> Vec<Problem> {
    match Rules::parse(text, "rules.toml") {
        Ok(rules) => panic!("expected problems, got {rules:?}"),
        Err(e) => e.problems().to_vec(),
    }
}

/// The single problem of an invalid file, as (line, rule, reason).
fn problem(text: &str) -> (usize, Option<String>, String) {
    let all = problems(text);
    assert_eq!(all.len(), 1, "{all:#?}");
    let p = &all[0];
    (
        p.line,
        p.rule.as_ref().map(ToString::to_string),
        p.reason.clone(),
    )
}

const EXAMPLE: &str = r#"
[assignment]
default = "pool:general"

[[assignment.rules]]
name = "华东制造业"
when = 'region == "华东" && industry == "制造业"'
to = "pool:east-manufacturing"

[[assignment.rules]]
name = "大客户"
when = 'score >= 80.0 || "vip" in tags'
to = "li.lei"
"#;

#[test]
fn region_and_industry_route_to_the_east_manufacturing_pool() {
    let rules = rules(EXAMPLE);
    let choice = rules.assign(&lead()).unwrap().unwrap();
    assert_eq!(choice.rule, "华东制造业");
    assert_eq!(choice.target, Target::Pool("east-manufacturing".into()));
    let pool = rules.pool("east-manufacturing").unwrap();
    assert_eq!(pool.members, ["li.lei", "han.mei", "zhang.wei"]);
    assert_eq!(pool.strategy, Strategy::LeastLoaded);
    assert_eq!(pool.manager, "wang.fang");
    assert_eq!(pool.platform, "wecom");
    let general = rules.pool("general").unwrap();
    assert_eq!(general.strategy, Strategy::RoundRobin);
    assert_eq!(general.platform, "dingtalk");
}

#[test]
fn the_first_matching_rule_in_file_order_wins_and_the_default_takes_the_rest() {
    let rules = rules(EXAMPLE);
    // A VIP outside 华东 manufacturing goes to the rep named by the second rule.
    let vip = LeadFacts {
        region: "华南".into(),
        ..lead()
    };
    let choice = rules.assign(&vip).unwrap().unwrap();
    assert_eq!(
        (choice.rule.as_str(), choice.target),
        ("大客户", Target::User("li.lei".into()))
    );
    // Nothing matches: the default.
    let other = LeadFacts {
        region: "华南".into(),
        tags: vec![],
        score: 10.0,
        ..lead()
    };
    let choice = rules.assign(&other).unwrap().unwrap();
    assert_eq!(choice.rule, DEFAULT_RULE);
    assert_eq!(choice.target, Target::Pool("general".into()));
}

#[test]
fn without_a_default_an_unmatched_lead_has_no_choice() {
    let rules = rules(
        "[[assignment.rules]]\nname = \"r\"\nwhen = 'region == \"华北\"'\nto = \"pool:general\"\n",
    );
    assert_eq!(rules.assign(&lead()).unwrap(), None);
    assert_eq!(Rules::default().assign(&lead()).unwrap(), None);
}

#[test]
fn settings_have_defaults_and_can_be_changed() {
    let defaults = Rules::default();
    let a = defaults.assignment();
    assert_eq!(a.accept_within_mins(), DEFAULT_ACCEPT_WITHIN_MINS);
    assert_eq!(
        a.first_contact_within_mins(),
        DEFAULT_FIRST_CONTACT_WITHIN_MINS
    );
    assert_eq!(a.platform(), "wecom");
    assert_eq!(a.default_target(), None);
    let rules = rules(
        "[assignment]\ndefault = \"zhao.min\"\nplatform = \"dingtalk\"\naccept_within_mins = 15\nfirst_contact_within_mins = 120\n",
    );
    let a = rules.assignment();
    assert_eq!(a.accept_within_mins(), 15);
    assert_eq!(a.first_contact_within_mins(), 120);
    assert_eq!(a.platform(), "dingtalk");
    assert_eq!(a.default_target(), Some(&Target::User("zhao.min".into())));
}

#[test]
fn every_lead_variable_exists_with_its_documented_type() {
    let rules_for = |when: &str| {
        rules(&format!(
            "[[assignment.rules]]\nname = \"r\"\nwhen = '{when}'\nto = \"li.lei\"\n"
        ))
    };
    for (name, cel_type) in LEAD_VARIABLES {
        let rules = rules_for(&format!("type({name}) == {cel_type}"));
        assert!(rules.assign(&lead()).unwrap().is_some(), "{name}");
        assert!(
            rules.assign(&LeadFacts::default()).unwrap().is_some(),
            "{name} on an empty lead"
        );
    }
    let cases = [
        "name == \"张伟\"",
        "company.contains(\"精密\")",
        "source == \"crm\"",
        "score > 60.0",
        "\"展会\" in tags",
        "tags.exists(t, t == \"vip\")",
        "tenant == \"acme\"",
        "fields.budget >= 100000",
    ];
    for when in cases {
        assert!(rules_for(when).assign(&lead()).unwrap().is_some(), "{when}");
    }
}

#[test]
fn a_failing_when_stops_the_search_with_the_rules_name() {
    let rules = rules(
        "[assignment]\ndefault = \"pool:general\"\n[[assignment.rules]]\nname = \"预算\"\nwhen = 'fields.owner == \"x\"'\nto = \"li.lei\"\n",
    );
    let error = rules.assign(&lead()).unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("assignment rule \"预算\": `when` failed:"),
        "{error}"
    );
}

#[test]
fn an_approval_variable_in_an_assignment_rule_is_refused_at_load() {
    let text = format!(
        "{POOLS}\n[[assignment.rules]]\nname = \"大单\"\nwhen = 'amount > 10000.0'\nto = \"li.lei\"\n"
    );
    let (line, rule, reason) = problem(&text);
    assert_eq!(line, 14);
    assert_eq!(rule.as_deref(), Some("assignment.rules[0] \"大单\""));
    assert_eq!(
        reason,
        "`when` uses unknown variable `amount`; the variables are: name, company, region, \
         industry, source, score, tags, tenant, fields"
    );
    // And a lead variable in an approval rule.
    let (_, _, reason) = problem(
        "[[approval]]\nname = \"r\"\nwhen = 'region == \"华东\"'\nlevels = [{ approvers = [\"manager\"] }]\n",
    );
    assert!(
        reason.starts_with("`when` uses unknown variable `region`;"),
        "{reason}"
    );
}

#[test]
fn a_when_that_is_not_true_or_false_is_refused() {
    let text =
        format!("{POOLS}\n[[assignment.rules]]\nname = \"r\"\nwhen = 'score'\nto = \"li.lei\"\n");
    let (_, _, reason) = problem(&text);
    assert_eq!(
        reason,
        "`when` gives a float, not true or false; compare it, as in `score > 60.0`"
    );
    let text = format!("{POOLS}\n[[assignment.rules]]\nname = \"r\"\nto = \"li.lei\"\n");
    let (line, _, reason) = problem(&text);
    assert_eq!(line, 12);
    assert!(reason.starts_with("has no `when`;"), "{reason}");
    assert!(reason.contains("takes every lead"), "{reason}");
}

#[test]
fn an_unknown_pool_or_a_bad_user_is_refused_with_its_line() {
    let text =
        format!("{POOLS}\n[[assignment.rules]]\nname = \"r\"\nwhen = 'true'\nto = \"pool:east\"\n");
    let (line, rule, reason) = problem(&text);
    assert_eq!(line, 15);
    assert_eq!(rule.as_deref(), Some("assignment.rules[0] \"r\""));
    assert_eq!(
        reason,
        "`to` names unknown pool `east`; the pools are: east-manufacturing, general"
    );
    let (_, _, reason) =
        problem("[[assignment.rules]]\nname = \"r\"\nwhen = 'true'\nto = \"pool:east\"\n");
    assert_eq!(
        reason,
        "`to` names unknown pool `east`; no pools are defined: add [pools.east]"
    );
    let (_, _, reason) =
        problem("[[assignment.rules]]\nname = \"r\"\nwhen = 'true'\nto = \"li lei\"\n");
    assert!(
        reason.starts_with("`to` \"li lei\" is neither `pool:<name>` nor a user id"),
        "{reason}"
    );
    let (line, rule, reason) = problem("[assignment]\n\ndefault = \"pool:nobody\"\n");
    assert_eq!((line, rule), (3, None));
    assert_eq!(
        reason,
        "assignment: `default` names unknown pool `nobody`; no pools are defined: add [pools.nobody]"
    );
}

#[test]
fn repeated_rule_names_and_unknown_keys_are_refused() {
    let text = format!(
        "{POOLS}\n[[assignment.rules]]\nname = \"r\"\nwhen = 'true'\nto = \"li.lei\"\n\n[[assignment.rules]]\nname = \"r\"\nwhen = 'true'\nto = \"li.lei\"\n"
    );
    let (line, rule, reason) = problem(&text);
    assert_eq!(line, 18);
    assert_eq!(rule.as_deref(), Some("assignment.rules[1] \"r\""));
    assert_eq!(
        reason,
        "the name \"r\" is already used by assignment.rules[0] on line 13"
    );
    let (_, rule, reason) = problem(
        "[[assignment.rules]]\nname = \"r\"\nwhen = 'true'\nto = \"li.lei\"\nassignee = \"x\"\n",
    );
    assert_eq!(rule.as_deref(), Some("assignment.rules[0] \"r\""));
    assert!(reason.starts_with("unknown field `assignee`"), "{reason}");
    let (line, _, reason) = problem("[assignment]\ndefualt = \"li.lei\"\n");
    assert_eq!(line, 2);
    assert!(
        reason.starts_with("assignment: unknown field `defualt`"),
        "{reason}"
    );
}

#[test]
fn bad_times_are_refused() {
    let all = problems("[assignment]\naccept_within_mins = 0\nfirst_contact_within_mins = -5\n");
    let reasons: Vec<_> = all.iter().map(|p| (p.line, p.reason.as_str())).collect();
    assert_eq!(
        reasons,
        [
            (
                2,
                "assignment: `accept_within_mins` must be 1 to 13500 minutes, not 0"
            ),
            (
                3,
                "assignment: `first_contact_within_mins` must be 1 to 13500 minutes, not -5"
            ),
        ]
    );
}

#[test]
fn bad_pools_are_refused_with_every_problem() {
    let text = r#"
[pools.East]
members = ["li.lei"]
manager = "wang.fang"

[pools.empty]
members = []
manager = "wang.fang"

[pools.nomanager]
members = ["li lei", "han.mei"]

[pools.strategy]
members = ["li.lei"]
manager = "wang.fang"
strategy = "random"
"#;
    let all = problems(text);
    let got: Vec<_> = all
        .iter()
        .map(|p| {
            format!(
                "{} {} {}",
                p.line,
                p.rule.as_ref().unwrap().name.as_deref().unwrap(),
                p.reason
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            "2 East a pool name is 1 to 64 of a-z, 0-9, `_` and `-`",
            "7 empty `members` lists nobody; list at least one user id",
            "10 nomanager has no `manager`; name the user id who is told when a lead of the pool is reassigned or not accepted in time",
            "11 nomanager member \"li lei\" is not a user id; a user id is 1 to 64 letters, digits, `.`, `_`, `-` or `@`",
            "16 strategy unknown variant `random`, expected `round_robin` or `least_loaded`",
        ]
    );
}

#[test]
fn the_assignment_section_must_be_a_table() {
    let (_, _, reason) = problem("[[assignment]]\nname = \"r\"\n");
    assert!(
        reason.starts_with("`assignment` must be a table: [assignment]"),
        "{reason}"
    );
}
