//! Approval rules: what `when` can test, first-match routing, resolving approvers and the
//! example file. The problems a bad file gets are in `approval_load_tests`.

use std::collections::BTreeMap;

use serde_json::json;

use super::{expression::VARIABLES, *};

const EXAMPLE: &str = include_str!("../../../rules.example.toml");

/// A discount request with a value for every variable.
fn request() -> ApprovalFacts {
    ApprovalFacts {
        kind: "discount".into(),
        title: "云帆科技 Q3 续约".into(),
        requester: "zhang.wei".into(),
        amount: 200_000.0,
        discount_pct: 12.0,
        tenant: "acme".into(),
        platform: "wecom".into(),
        fields: BTreeMap::from([
            ("region".into(), json!("east")),
            ("seats".into(), json!(40)),
            ("rate".into(), json!(0.75)),
            ("strategic".into(), json!(true)),
            ("tags".into(), json!(["vip", "renewal"])),
            ("owner".into(), json!({ "team": "华东" })),
        ]),
        subject_type: "customer".into(),
        subject_id: "wm_abc123".into(),
    }
}

/// A file with one approval rule named `r` whose `when` is `when`.
fn one_rule(when: &str) -> Rules {
    let text = format!(
        "[[approval]]\nname = \"r\"\nwhen = '''{when}'''\nlevels = [{{ approvers = [\"manager\"] }}]\n"
    );
    Rules::parse(&text, "rules.toml").unwrap()
}

fn matches(when: &str, facts: &ApprovalFacts) -> bool {
    let rules = one_rule(when);
    let direct = rules.approval()[0].matches(facts).unwrap();
    assert_eq!(direct, rules.route(facts).unwrap().is_some(), "{when}");
    direct
}

fn user(id: &str) -> ApproverRef {
    ApproverRef::User(id.into())
}

fn role(name: &str) -> ApproverRef {
    ApproverRef::Role(name.into())
}

const TIERS: &str = r#"[[approval]]
name = "huge deal"
when = 'kind == "discount" && (discount_pct > 30.0 || amount > 1000000.0)'
levels = [
  { approvers = ["manager"] },
  { approvers = ["role:sales_director", "li.lei"], mode = "all" },
]

[[approval]]
name = "big discount"
when = 'kind == "discount" && discount_pct > 15.0'
levels = [{ approvers = ["role:sales_director"] }]

[[approval]]
name = "any discount"
when = 'kind == "discount"'
levels = [{ approvers = ["manager"], mode = "any" }]

[roles]
sales_director = ["wang.fang"]
"#;

#[test]
fn the_first_matching_rule_in_file_order_gives_the_levels() {
    let rules = Rules::parse(TIERS, "rules.toml").unwrap();
    let route = |discount_pct: f64, amount: f64| {
        let facts = ApprovalFacts {
            discount_pct,
            amount,
            ..request()
        };
        rules.route(&facts).unwrap().unwrap()
    };

    let huge = route(40.0, 10_000.0);
    let want = Route {
        rule: "huge deal".into(),
        levels: vec![
            Level {
                approvers: vec![ApproverRef::Manager],
                mode: Mode::Any,
            },
            Level {
                approvers: vec![role("sales_director"), user("li.lei")],
                mode: Mode::All,
            },
        ],
    };
    assert_eq!(huge, want);
    assert_eq!(route(5.0, 2_000_000.0).rule, "huge deal");
    // 20 % also holds for "any discount" below; the first rule that holds decides.
    assert_eq!(route(20.0, 10_000.0).rule, "big discount");
    assert_eq!(route(15.0, 10_000.0).rule, "any discount");

    // The same rules with the catch-all first: it takes everything.
    let any_at = TIERS.find("[[approval]]\nname = \"any").unwrap();
    let roles_at = TIERS.find("[roles]").unwrap();
    let reordered = [
        &TIERS[any_at..roles_at],
        &TIERS[..any_at],
        &TIERS[roles_at..],
    ]
    .concat();
    let reordered = Rules::parse(&reordered, "rules.toml").unwrap();
    let facts = ApprovalFacts {
        discount_pct: 40.0,
        ..request()
    };
    assert_eq!(
        reordered.route(&facts).unwrap().unwrap().rule,
        "any discount"
    );
}

#[test]
fn every_variable_of_the_request_can_be_tested() {
    let facts = request();
    let cases = [
        ("kind == \"discount\"", "kind == \"contract\""),
        ("title.contains(\"云帆\")", "title.startsWith(\"Q3\")"),
        ("requester == \"zhang.wei\"", "requester == \"li.lei\""),
        ("amount >= 200000.0", "amount > 200000.0"),
        ("amount == 200000", "amount < 1000"),
        ("discount_pct == 12.0", "discount_pct > 15.0"),
        ("tenant == \"acme\"", "tenant != \"acme\""),
        ("platform == \"wecom\"", "platform == \"dingtalk\""),
        ("fields.region == \"east\"", "fields.region == \"west\""),
        ("subject_type == \"customer\"", "subject_type == \"deal\""),
        (
            "subject_id.startsWith(\"wm_\")",
            "subject_id.endsWith(\"wm_\")",
        ),
    ];
    for (holds, fails) in cases {
        assert!(matches(holds, &facts), "{holds}");
        assert!(!matches(fails, &facts), "{fails}");
    }
    // Every variable exists for every request, with the type the docs give it.
    for (name, cel_type) in VARIABLES {
        assert!(
            matches(&format!("type({name}) == {cel_type}"), &facts),
            "{name}"
        );
        let empty = ApprovalFacts::default();
        assert!(
            matches(&format!("type({name}) == {cel_type}"), &empty),
            "{name}"
        );
    }
}

#[test]
fn fields_are_a_map_of_the_requests_free_form_fields() {
    let facts = request();
    for when in [
        "fields.region == \"east\"",
        "fields[\"region\"] == \"east\"",
        "\"region\" in fields",
        "has(fields.region)",
        "!has(fields.channel)",
        "fields.seats > 30",
        "fields.seats == 40",
        "type(fields.seats) == int",
        "fields.rate > 0.5",
        "fields.strategic",
        "fields.strategic == true",
        "\"vip\" in fields.tags",
        "fields.tags.exists(t, t.startsWith(\"ren\"))",
        "fields.owner.team == \"华东\"",
        "has(fields.channel) && fields.channel == \"web\" || fields.region == \"east\"",
    ] {
        assert!(matches(when, &facts), "{when}");
    }
    for when in [
        "fields.region == \"west\"",
        "fields.seats > 40",
        "has(fields.channel)",
    ] {
        assert!(!matches(when, &facts), "{when}");
    }
}

#[test]
fn comparison_membership_and_boolean_operators_work_as_in_cel() {
    let facts = request();
    for when in [
        "kind in [\"discount\", \"contract\"]",
        "!(kind == \"contract\")",
        "kind == \"contract\" || discount_pct < 15.0",
        "kind == \"discount\" && amount / 100.0 > 1000.0",
        "size(title) > 3 && title.size() > 3",
        "int(discount_pct) == 12 && string(fields.seats) == \"40\"",
        "(amount > 100000.0 ? \"big\" : \"small\") == \"big\"",
    ] {
        assert!(matches(when, &facts), "{when}");
    }
}

#[test]
fn a_field_the_request_lacks_is_an_evaluation_error_unless_has_guards_it() {
    let rules = one_rule("fields.channel == \"web\"");
    let e = rules.route(&request()).unwrap_err();
    assert_eq!(
        e,
        RouteError::Evaluation {
            rule: "r".into(),
            reason: "No such key: channel".into(),
        }
    );
    assert_eq!(
        e.to_string(),
        "approval rule \"r\": `when` failed: No such key: channel"
    );
    assert!(!matches(
        "has(fields.channel) && fields.channel == \"web\"",
        &request()
    ));
}

#[test]
fn a_when_that_gives_no_boolean_is_a_route_error_and_stops_the_search() {
    let text = r#"[[approval]]
name = "odd"
when = 'has(fields.region) ? fields.region : false'
levels = [{ approvers = ["manager"] }]

[[approval]]
name = "all"
when = 'true'
levels = [{ approvers = ["manager"] }]
"#;
    let rules = Rules::parse(text, "rules.toml").unwrap();
    let e = rules.route(&request()).unwrap_err();
    assert_eq!(
        e,
        RouteError::NotBoolean {
            rule: "odd".into(),
            got: "string".into(),
        }
    );
    assert_eq!(
        e.to_string(),
        "approval rule \"odd\": `when` gave a string, not true or false"
    );
    assert_eq!(rules.approval()[0].matches(&request()), Err(e));
    // Without a region the first rule says false and the second takes the request.
    let facts = ApprovalFacts {
        fields: BTreeMap::new(),
        ..request()
    };
    assert_eq!(rules.route(&facts).unwrap().unwrap().rule, "all");
}

#[test]
fn no_matching_rule_gives_none_and_a_reason_for_the_requester() {
    assert_eq!(Rules::default().route(&request()), Ok(None));
    let rules = Rules::parse(TIERS, "rules.toml").unwrap();
    let contract = ApprovalFacts {
        kind: "contract".into(),
        discount_pct: 5.0,
        amount: 20_000.0,
        ..request()
    };
    assert_eq!(rules.route(&contract), Ok(None));
    assert_eq!(
        contract.no_match_reason(),
        "no approval rule matches kind=contract discount_pct=5 amount=20000"
    );
}

const PEOPLE: &str = r#"[[approval]]
name = "r"
when = 'true'
levels = [
  { approvers = ["manager", "role:finance", "li.lei", "role:sales_director", "zhao.min", "li.lei"] },
  { approvers = ["role:finance"], mode = "all" },
  { approvers = ["wang.fang@acme", "a_b-c.d"] },
]

[roles]
finance = ["zhao.min", "qian.jun", "zhao.min"]
sales_director = ["wang.fang", "li.lei"]
"#;

#[test]
fn a_level_resolves_manager_roles_and_users_to_distinct_user_ids_in_order() {
    let rules = Rules::parse(PEOPLE, "rules.toml").unwrap();
    let levels = rules.approval()[0].levels();
    // A reference written twice in a level is kept once.
    assert_eq!(
        levels[0].approvers,
        [
            ApproverRef::Manager,
            role("finance"),
            user("li.lei"),
            role("sales_director"),
            user("zhao.min"),
        ]
    );
    assert_eq!(
        levels[0].resolve(&rules, Some("li.lei")).unwrap(),
        ["li.lei", "zhao.min", "qian.jun", "wang.fang"]
    );
    assert_eq!(
        levels[0].resolve(&rules, Some("sun.li")).unwrap(),
        ["sun.li", "zhao.min", "qian.jun", "li.lei", "wang.fang"]
    );
    // A level without `manager` needs no manager.
    assert_eq!(
        levels[1].resolve(&rules, None).unwrap(),
        ["zhao.min", "qian.jun"]
    );
    assert_eq!(
        levels[2].resolve(&rules, None).unwrap(),
        ["wang.fang@acme", "a_b-c.d"]
    );
    let shown: Vec<String> = levels[0].approvers.iter().map(|a| a.to_string()).collect();
    assert_eq!(
        shown,
        [
            "manager",
            "role:finance",
            "li.lei",
            "role:sales_director",
            "zhao.min"
        ]
    );
}

#[test]
fn manager_without_a_manager_is_an_error() {
    let rules = Rules::parse(PEOPLE, "rules.toml").unwrap();
    let e = rules.approval()[0].levels()[0]
        .resolve(&rules, None)
        .unwrap_err();
    assert_eq!(e, RouteError::NoManager);
    assert_eq!(e.to_string(), "the requester has no manager");
}

#[test]
fn a_role_the_given_rules_lack_is_an_unknown_role_error() {
    let rules = Rules::parse(PEOPLE, "rules.toml").unwrap();
    let level = rules.approval()[0].levels()[1].clone();
    let e = level.resolve(&Rules::default(), None).unwrap_err();
    assert_eq!(e, RouteError::UnknownRole("finance".into()));
}

#[test]
fn role_members_are_listed_once_in_order_and_unknown_roles_have_none() {
    let rules = Rules::parse(PEOPLE, "rules.toml").unwrap();
    assert_eq!(rules.role_members("finance"), ["zhao.min", "qian.jun"]);
    assert_eq!(
        rules.role_members("sales_director"),
        ["wang.fang", "li.lei"]
    );
    assert!(rules.role_members("legal").is_empty());
}

#[test]
fn mode_defaults_to_any_and_levels_can_be_written_as_tables() {
    let text = r#"[[approval]]
name = "r"
when = 'kind == "contract"'

[[approval.levels]]
approvers = ["manager"]

[[approval.levels]]
approvers = ["sun.li", "zhou.jie"]
mode = "all"
"#;
    let rules = Rules::parse(text, "rules.toml").unwrap();
    let rule = &rules.approval()[0];
    assert_eq!((rule.name(), rule.when()), ("r", "kind == \"contract\""));
    let modes: Vec<Mode> = rule.levels().iter().map(|l| l.mode).collect();
    assert_eq!(modes, [Mode::Any, Mode::All]);
}

#[test]
fn the_functions_the_docs_name_are_available() {
    for when in [
        "size(title) > 0",
        "title.contains(\"云帆\")",
        "title.startsWith(\"云\")",
        "title.endsWith(\"续约\")",
        "int(amount) > 0",
        "double(fields.seats) > 0.0",
        "string(fields.seats) == \"40\"",
        "type(amount) == double",
        "fields.tags.all(t, size(t) > 0)",
        "fields.tags.exists_one(t, t == \"vip\")",
        "fields.tags.filter(t, t != \"vip\").size() == 1",
        "fields.tags.map(t, size(t)).exists(n, n == 3)",
    ] {
        assert!(matches(when, &request()), "{when}");
    }
}
#[test]
fn the_example_file_routes_sample_requests() {
    let rules = Rules::parse(EXAMPLE, "rules.example.toml").unwrap();
    let names: Vec<&str> = rules.approval().iter().map(ApprovalRule::name).collect();
    assert_eq!(
        names,
        ["重大折扣", "大额折扣", "非标合同", "折扣与标准合同"]
    );

    // A 35 % discount: the manager, then the sales director and the CFO, then finance.
    let deep = ApprovalFacts {
        kind: "discount".into(),
        requester: "zhangwei".into(),
        amount: 80_000.0,
        discount_pct: 35.0,
        ..ApprovalFacts::default()
    };
    let route = rules.route(&deep).unwrap().unwrap();
    assert_eq!(route.rule, "重大折扣");
    let people: Vec<Vec<String>> = route
        .levels
        .iter()
        .map(|level| level.resolve(&rules, Some("lina")).unwrap())
        .collect();
    assert_eq!(
        people,
        [
            vec!["lina"],
            vec!["wang.fang", "chen.jing"],
            vec!["zhao.min", "qian.jun"],
        ]
    );
    let modes: Vec<Mode> = route.levels.iter().map(|l| l.mode).collect();
    assert_eq!(modes, [Mode::Any, Mode::All, Mode::Any]);

    // A contract on a custom template: the manager, then legal.
    let contract = ApprovalFacts {
        kind: "contract".into(),
        amount: 300_000.0,
        fields: BTreeMap::from([("template".into(), json!("custom"))]),
        ..ApprovalFacts::default()
    };
    let route = rules.route(&contract).unwrap().unwrap();
    assert_eq!(route.rule, "非标合同");
    assert_eq!(route.levels[1].resolve(&rules, None).unwrap(), ["sun.li"]);

    // A 10 % discount: the manager alone. A refund: no rule.
    let small = ApprovalFacts {
        discount_pct: 10.0,
        ..deep.clone()
    };
    assert_eq!(rules.route(&small).unwrap().unwrap().rule, "折扣与标准合同");
    let refund = ApprovalFacts {
        kind: "refund".into(),
        ..deep
    };
    assert_eq!(rules.route(&refund), Ok(None));
}
