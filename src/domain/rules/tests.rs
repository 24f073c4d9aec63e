//! The rules file: every condition, how matching rules combine, the example file, and every
//! kind of problem with the line it is reported on.

use std::io::Write;

use super::*;

const EXAMPLE: &str = include_str!("../../../rules.example.toml");

/// A file with one rule whose `when` lines are `when` and whose tag is `组/标签`.
fn one_rule(when: &str) -> Rules {
    let text = format!("[[tagging]]\nname = \"r\"\n{when}\ntags = [\"组/标签\"]\n");
    Rules::parse(&text, "rules.toml").unwrap()
}

fn matches(when: &str, facts: &TaggingFacts) -> bool {
    let rules = one_rule(when);
    let direct = rules.tagging()[0].matches(facts);
    assert_eq!(direct, !rules.tags_for(facts).is_empty());
    direct
}

fn facts() -> TaggingFacts {
    TaggingFacts {
        state: Some("expo2026-sh".into()),
        rep: "wangfang".into(),
        rep_departments: vec!["华东销售部".into(), "12".into()],
        customer_type: CustomerType::Wecom,
        name: "Zhang San".into(),
        corp_name: Some("上海云帆科技 Cloud Ltd".into()),
        position: Some("Sales Director".into()),
        add_way: Some(1),
        gender: Gender::Female,
    }
}

fn tag(text: &str) -> TagName {
    TagName::parse(text).unwrap()
}

/// The problems of an invalid file, as (line, rule, reason).
fn problems(text: &str) -> Vec<Problem> {
    match Rules::parse(text, "rules.toml") {
        Ok(rules) => panic!("expected problems, got {rules:?}"),
        Err(e) => e.problems().to_vec(),
    }
}

/// The single problem of an invalid file.
fn problem(text: &str) -> Problem {
    let mut all = problems(text);
    assert_eq!(all.len(), 1, "{all:#?}");
    all.remove(0)
}

#[test]
fn state_matches_only_the_exact_state() {
    let when = "when.state = \"expo2026-sh\"";
    assert!(matches(when, &facts()));
    for other in [Some("expo2026-sh2"), Some("EXPO2026-SH"), Some(""), None] {
        let f = TaggingFacts {
            state: other.map(Into::into),
            ..facts()
        };
        assert!(!matches(when, &f), "{other:?}");
    }
}

#[test]
fn state_prefix_matches_states_that_start_with_it() {
    let when = "when.state_prefix = \"expo\"";
    assert!(matches(when, &facts()));
    for other in [Some("web-expo"), Some("Expo2026"), None] {
        let f = TaggingFacts {
            state: other.map(Into::into),
            ..facts()
        };
        assert!(!matches(when, &f), "{other:?}");
    }
}

#[test]
fn state_in_matches_any_listed_state() {
    let when = "when.state_in = [\"web-home\", \"expo2026-sh\"]";
    assert!(matches(when, &facts()));
    let f = TaggingFacts {
        state: Some("expo2026-bj".into()),
        ..facts()
    };
    assert!(!matches(when, &f));
    let f = TaggingFacts {
        state: None,
        ..facts()
    };
    assert!(!matches(when, &f));
}

#[test]
fn rep_matches_the_exact_userid() {
    assert!(matches("when.rep = \"wangfang\"", &facts()));
    assert!(!matches("when.rep = \"WangFang\"", &facts()));
    assert!(!matches("when.rep = \"wang\"", &facts()));
}

#[test]
fn rep_in_matches_any_listed_userid() {
    assert!(matches("when.rep_in = [\"lina\", \"wangfang\"]", &facts()));
    assert!(!matches("when.rep_in = [\"lina\", \"zhangwei\"]", &facts()));
}

#[test]
fn rep_department_matches_any_of_the_reps_departments_by_name_or_id() {
    assert!(matches("when.rep_department = \"华东销售部\"", &facts()));
    assert!(matches("when.rep_department = \"12\"", &facts()));
    assert!(!matches("when.rep_department = \"华东\"", &facts()));
    assert!(!matches("when.rep_department = \"1\"", &facts()));
}

#[test]
fn customer_type_matches_wechat_or_wecom_and_never_unknown() {
    assert!(matches("when.customer_type = \"wecom\"", &facts()));
    assert!(!matches("when.customer_type = \"wechat\"", &facts()));
    let wechat = TaggingFacts {
        customer_type: CustomerType::Wechat,
        ..facts()
    };
    assert!(matches("when.customer_type = \"wechat\"", &wechat));
    let unknown = TaggingFacts {
        customer_type: CustomerType::Unknown,
        ..facts()
    };
    assert!(!matches("when.customer_type = \"wechat\"", &unknown));
    assert!(!matches("when.customer_type = \"wecom\"", &unknown));
}

#[test]
fn corp_name_contains_ignores_case_and_needs_a_company() {
    assert!(matches("when.corp_name_contains = \"科技\"", &facts()));
    assert!(matches("when.corp_name_contains = \"CLOUD\"", &facts()));
    assert!(!matches("when.corp_name_contains = \"银行\"", &facts()));
    let none = TaggingFacts {
        corp_name: None,
        ..facts()
    };
    assert!(!matches("when.corp_name_contains = \"科技\"", &none));
}

#[test]
fn position_contains_ignores_case_and_needs_a_position() {
    assert!(matches("when.position_contains = \"director\"", &facts()));
    assert!(!matches("when.position_contains = \"ceo\"", &facts()));
    let none = TaggingFacts {
        position: None,
        ..facts()
    };
    assert!(!matches("when.position_contains = \"director\"", &none));
}

#[test]
fn name_contains_ignores_case() {
    assert!(matches("when.name_contains = \"zhang\"", &facts()));
    assert!(matches("when.name_contains = \"SAN\"", &facts()));
    assert!(!matches("when.name_contains = \"li\"", &facts()));
}

#[test]
fn add_way_matches_any_listed_code() {
    assert!(matches("when.add_way = [1, 16]", &facts()));
    assert!(!matches("when.add_way = [2, 3]", &facts()));
    let none = TaggingFacts {
        add_way: None,
        ..facts()
    };
    assert!(!matches("when.add_way = [0, 1]", &none));
}

#[test]
fn gender_matches_male_female_or_unknown() {
    assert!(matches("when.gender = \"female\"", &facts()));
    assert!(!matches("when.gender = \"male\"", &facts()));
    assert!(!matches("when.gender = \"unknown\"", &facts()));
    let unknown = TaggingFacts {
        gender: Gender::Unknown,
        ..facts()
    };
    assert!(matches("when.gender = \"unknown\"", &unknown));
}

#[test]
fn a_rule_matches_only_when_all_its_conditions_hold() {
    let when =
        "when.state_prefix = \"expo\"\nwhen.customer_type = \"wecom\"\nwhen.gender = \"female\"";
    assert!(matches(when, &facts()));
    let male = TaggingFacts {
        gender: Gender::Male,
        ..facts()
    };
    assert!(!matches(when, &male));
    let web = TaggingFacts {
        state: Some("web-home".into()),
        ..facts()
    };
    assert!(!matches(when, &web));
}

#[test]
fn conditions_can_be_written_as_a_when_table() {
    let text =
        "[[tagging]]\nname = \"r\"\ntags = [\"组/标签\"]\n[tagging.when]\nrep = \"wangfang\"\n";
    let rules = Rules::parse(text, "rules.toml").unwrap();
    assert_eq!(rules.tags_for(&facts()).len(), 1);
}

#[test]
fn matching_rules_give_the_union_of_their_tags_once_each_with_every_rule_named() {
    let text = r#"
[[tagging]]
name = "expo"
when.state_prefix = "expo"
tags = ["渠道/展会", "地区/上海"]

[[tagging]]
name = "bank"
when.corp_name_contains = "银行"
tags = ["行业/金融"]

[[tagging]]
name = "east"
when.rep_department = "华东销售部"
tags = ["区域/华东", "渠道/展会", "区域/华东"]
"#;
    let rules = Rules::parse(text, "rules.toml").unwrap();
    assert_eq!(
        rules.tagging()[2].tags(),
        [tag("区域/华东"), tag("渠道/展会")]
    );
    let got = rules.tags_for(&facts());
    let want = vec![
        Tagging {
            tag: tag("渠道/展会"),
            rules: vec!["expo".into(), "east".into()],
        },
        Tagging {
            tag: tag("地区/上海"),
            rules: vec!["expo".into()],
        },
        Tagging {
            tag: tag("区域/华东"),
            rules: vec!["east".into()],
        },
    ];
    assert_eq!(got, want);
}

#[test]
fn no_rules_and_no_matching_rule_give_no_tags() {
    assert!(Rules::default().tags_for(&facts()).is_empty());
    assert!(Rules::parse("", "rules.toml").unwrap().tagging().is_empty());
    assert!(
        one_rule("when.rep = \"lina\"")
            .tags_for(&facts())
            .is_empty()
    );
}

#[test]
fn tag_names_show_as_group_slash_name() {
    let t = tag("渠道/展会");
    assert_eq!((t.group(), t.name()), ("渠道", "展会"));
    assert_eq!(t.to_string(), "渠道/展会");
    assert_eq!(TagName::new("渠道", "展会").unwrap(), t);
    assert_eq!("渠道/展会".parse::<TagName>().unwrap(), t);
    let thirty = "字".repeat(MAX_TAG_CHARS);
    assert!(TagName::new(&thirty, &thirty).is_ok());
}

fn sample(rules: &Rules, facts: &TaggingFacts) -> Vec<(String, Vec<String>)> {
    rules
        .tags_for(facts)
        .into_iter()
        .map(|t| (t.tag.to_string(), t.rules))
        .collect()
}

fn pairs(want: &[(&str, &[&str])]) -> Vec<(String, Vec<String>)> {
    want.iter()
        .map(|(tag, rules)| {
            (
                tag.to_string(),
                rules.iter().map(|r| r.to_string()).collect(),
            )
        })
        .collect()
}

#[test]
fn the_example_file_tags_three_sample_customers() {
    let rules = Rules::parse(EXAMPLE, "rules.example.toml").unwrap();
    assert_eq!(rules.tagging().len(), 9);

    // A WeChat user who scanned the Shanghai expo code of an East China rep.
    let visitor = TaggingFacts {
        state: Some("expo2026-sh".into()),
        rep: "wangfang".into(),
        rep_departments: vec!["12".into()],
        customer_type: CustomerType::Wechat,
        name: "小李".into(),
        add_way: Some(1),
        gender: Gender::Male,
        ..TaggingFacts::default()
    };
    let want: &[(&str, &[&str])] = &[
        ("渠道/展会", &["展会 2026 上海", "所有展会"]),
        ("地区/上海", &["展会 2026 上海"]),
        ("区域/华东", &["华东团队"]),
    ];
    assert_eq!(sample(&rules, &visitor), pairs(want));

    // A tech company's CEO, added by a key-account manager from a shared card.
    let ceo = TaggingFacts {
        rep: "zhangwei".into(),
        rep_departments: vec!["大客户部".into()],
        customer_type: CustomerType::Wecom,
        name: "Chen Jing".into(),
        corp_name: Some("杭州云帆科技有限公司".into()),
        position: Some("CEO".into()),
        add_way: Some(3),
        gender: Gender::Female,
        ..TaggingFacts::default()
    };
    let want: &[(&str, &[&str])] = &[
        ("客户类型/企业", &["科技企业联系人"]),
        ("行业/科技", &["科技企业联系人"]),
        ("角色/决策人", &["决策人：CEO"]),
        ("跟进/大客户", &["大客户经理"]),
    ];
    assert_eq!(sample(&rules, &ceo), pairs(want));

    // A WeChat user who searched a rep's phone number after seeing the pricing page.
    let searcher = TaggingFacts {
        state: Some("web-pricing".into()),
        rep: "lina".into(),
        customer_type: CustomerType::Wechat,
        name: "阿强".into(),
        add_way: Some(2),
        ..TaggingFacts::default()
    };
    let want: &[(&str, &[&str])] = &[
        ("渠道/线上", &["线上投放"]),
        ("客户类型/个人", &["个人微信 自然流量"]),
        ("渠道/自然流量", &["个人微信 自然流量"]),
        ("跟进/大客户", &["大客户经理"]),
    ];
    assert_eq!(sample(&rules, &searcher), pairs(want));
}

#[test]
fn load_reads_the_file_and_names_its_path_in_problems() {
    let mut good = tempfile::NamedTempFile::new().unwrap();
    good.write_all(EXAMPLE.as_bytes()).unwrap();
    assert_eq!(Rules::load(good.path()).unwrap().tagging().len(), 9);

    let mut bad = tempfile::NamedTempFile::new().unwrap();
    bad.write_all(b"[[tagging]]\nname = \"r\"\ntags = [\"g/t\"]\n")
        .unwrap();
    let e = Rules::load(bad.path()).unwrap_err();
    let path = bad.path().display().to_string();
    assert_eq!(e.problems()[0].file, path);
    assert!(
        e.to_string()
            .starts_with(&format!("{path}:1: tagging[0] \"r\": ")),
        "{e}"
    );
}

#[test]
fn a_missing_file_is_a_read_error_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rules.toml");
    let e = Rules::load(&path).unwrap_err();
    assert!(matches!(e, RulesError::Read { .. }), "{e:?}");
    assert!(e.to_string().contains(&path.display().to_string()), "{e}");
    assert!(e.problems().is_empty());
}

#[test]
fn a_toml_syntax_error_names_its_line() {
    let text = "[[tagging]]\nname = \"r\"\n\nwhen.state = expo2026\ntags = [\"g/t\"]\n";
    let p = problem(text);
    assert_eq!((p.line, &p.rule), (4, &None));
    assert!(p.reason.starts_with("not valid TOML: "), "{}", p.reason);
}

#[test]
fn a_key_given_twice_is_a_syntax_error_on_the_second() {
    let p = problem("[[tagging]]\nname = \"a\"\nname = \"b\"\n");
    assert_eq!(p.line, 3);
    assert_eq!(p.reason, "not valid TOML: duplicate key");
}

#[test]
fn an_unknown_section_is_refused_on_its_line() {
    let text = "# rules\n\n[[taging]]\nname = \"r\"\n";
    let p = problem(text);
    assert_eq!(p.line, 3);
    assert_eq!(p.rule, None);
    let reason = format!(
        "unknown section `taging`; the sections are: {}",
        super::file::SECTIONS.join(", ")
    );
    assert!(reason.contains("tagging, approval, roles, lead_score, task_rule"));
    assert_eq!(p.reason, reason);
    assert_eq!(
        RulesError::Invalid(vec![p]).to_string(),
        format!("rules.toml:3: {reason}")
    );
}

#[test]
fn tagging_written_as_a_single_table_is_refused() {
    let p = problem("[tagging]\nname = \"r\"\n");
    assert_eq!(p.line, 1);
    assert!(p.reason.contains("[[tagging]]"), "{}", p.reason);
}

#[test]
fn an_unknown_condition_key_is_refused_on_its_line_naming_the_rule() {
    let text = "[[tagging]]\nname = \"expo\"\nwhen.stat = \"expo\"\ntags = [\"g/t\"]\n";
    let p = problem(text);
    assert_eq!(p.line, 3);
    let rule = p.rule.clone().unwrap();
    assert_eq!(
        (rule.section, rule.index, rule.name.as_deref()),
        ("tagging", 0, Some("expo"))
    );
    assert!(
        p.reason
            .starts_with("unknown field `stat`, expected one of `state`"),
        "{}",
        p.reason
    );
}

#[test]
fn an_unknown_rule_key_is_refused_on_its_line() {
    let text =
        "[[tagging]]\nname = \"r\"\nwhen.rep = \"lina\"\ntags = [\"g/t\"]\ncolour = \"red\"\n";
    let p = problem(text);
    assert_eq!(p.line, 5);
    assert!(
        p.reason.starts_with("unknown field `colour`"),
        "{}",
        p.reason
    );
}

#[test]
fn a_condition_of_the_wrong_value_is_refused_on_its_line() {
    let text = "[[tagging]]\nname = \"r\"\nwhen.customer_type = \"company\"\ntags = [\"g/t\"]\n";
    let p = problem(text);
    assert_eq!(p.line, 3);
    assert_eq!(
        p.reason,
        "unknown variant `company`, expected `wechat` or `wecom`"
    );
}

#[test]
fn a_rule_without_conditions_is_refused() {
    let missing = "[[tagging]]\nname = \"r\"\ntags = [\"g/t\"]\n";
    let p = problem(missing);
    assert_eq!(p.line, 1);
    assert!(p.reason.starts_with("has no conditions"), "{}", p.reason);

    let empty = "[[tagging]]\nname = \"r\"\nwhen = {}\ntags = [\"g/t\"]\n";
    let p = problem(empty);
    assert_eq!(p.line, 3);
    assert!(p.reason.starts_with("has no conditions"), "{}", p.reason);
}

#[test]
fn empty_condition_values_are_refused_on_their_lines() {
    let text = "[[tagging]]\nname = \"r\"\nwhen.state = \" \"\nwhen.rep_in = []\nwhen.state_in = [\n  \"a\",\n  \"\",\n]\nwhen.add_way = [1, -2]\ntags = [\"g/t\"]\n";
    let lines: Vec<_> = problems(text).iter().map(|p| p.line).collect();
    assert_eq!(lines, [3, 4, 7, 9]);
}

#[test]
fn a_tag_without_a_group_is_refused_on_its_line() {
    let text = "[[tagging]]\nname = \"East China team\"\nwhen.rep_department = \"华东销售部\"\ntags = [\n  \"区域/华东\",\n  \"区域\",\n]\n";
    let p = problem(text);
    assert_eq!(p.line, 6);
    assert_eq!(
        p.to_string(),
        "rules.toml:6: tagging[0] \"East China team\": tag \"区域\" must be \"group/name\""
    );
}

#[test]
fn tags_with_empty_parts_spaces_or_two_slashes_are_refused() {
    let text = "[[tagging]]\nname = \"r\"\nwhen.rep = \"lina\"\ntags = [\"/华东\", \"区域/\", \"区域 / 华东\", \"a/b/c\"]\n";
    let reasons: Vec<_> = problems(text)
        .into_iter()
        .map(|p| (p.line, p.reason))
        .collect();
    assert_eq!(
        reasons,
        [
            (4, "tag \"/华东\": the group is empty".to_string()),
            (4, "tag \"区域/\": the name is empty".to_string()),
            (
                4,
                "tag \"区域 / 华东\": the group starts or ends with a space".to_string()
            ),
            (
                4,
                "tag \"a/b/c\" has more than one \"/\"; it must be \"group/name\"".to_string()
            ),
        ]
    );
}

#[test]
fn a_tag_name_over_thirty_characters_is_refused_on_its_line() {
    let long = "长".repeat(MAX_TAG_CHARS + 1);
    let text =
        format!("[[tagging]]\nname = \"r\"\nwhen.rep = \"lina\"\n\ntags = [\"区域/{long}\"]\n");
    let p = problem(&text);
    assert_eq!(p.line, 5);
    assert_eq!(
        p.reason,
        format!("tag \"区域/{long}\": the name has 31 characters; WeCom allows at most 30")
    );
}

#[test]
fn a_rule_without_tags_is_refused() {
    let p = problem("[[tagging]]\nname = \"r\"\nwhen.rep = \"lina\"\ntags = []\n");
    assert_eq!(p.line, 4);
    let p = problem("[[tagging]]\nname = \"r\"\nwhen.rep = \"lina\"\n");
    assert_eq!((p.line, p.reason.as_str()), (1, "missing field `tags`"));
}

#[test]
fn a_duplicate_rule_name_is_refused_on_the_second_rule() {
    let text = "[[tagging]]\nname = \"expo\"\nwhen.state = \"a\"\ntags = [\"g/t\"]\n\n[[tagging]]\nname = \"expo\"\nwhen.state = \"b\"\ntags = [\"g/t\"]\n";
    let p = problem(text);
    assert_eq!(p.line, 7);
    assert_eq!(p.rule.as_ref().unwrap().index, 1);
    assert_eq!(
        p.reason,
        "the name \"expo\" is already used by tagging[0] on line 2"
    );
}

#[test]
fn an_empty_rule_name_is_refused() {
    let p = problem("[[tagging]]\nname = \"\"\nwhen.rep = \"lina\"\ntags = [\"g/t\"]\n");
    assert_eq!(p.line, 2);
    assert_eq!(p.rule.as_ref().unwrap().to_string(), "tagging[0]");
    let p = problem("[[tagging]]\nwhen.rep = \"lina\"\ntags = [\"g/t\"]\n");
    assert_eq!((p.line, p.reason.as_str()), (1, "missing field `name`"));
}

#[test]
fn every_problem_in_the_file_is_reported_in_line_order() {
    let text = r#"[[tagging]]
name = "one"
when.stat = "x"
tags = ["g/t"]

[[tagging]]
name = "two"
when.rep = "lina"
tags = ["区域"]

[[tagging]]
name = "two"
when = {}
tags = ["g/t"]

[extra]
"#;
    let e = Rules::parse(text, "rules.toml").unwrap_err();
    let lines: Vec<_> = e.problems().iter().map(|p| p.line).collect();
    assert_eq!(lines, [3, 9, 12, 13, 16]);
    assert_eq!(e.to_string().lines().count(), 5);
    assert!(
        e.to_string()
            .contains("rules.toml:9: tagging[1] \"two\": tag \"区域\" must be \"group/name\""),
        "{e}"
    );
}
