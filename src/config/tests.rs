//! Loading and validation: every kind of error names its key; overrides, indirection and
//! redaction behave as documented.

use std::{collections::HashMap, io::Write};

use super::*;

fn source(
    toml: Option<&str>,
    env: &[(&str, &str)],
) -> (ConfigSource, Option<tempfile::NamedTempFile>) {
    let file = toml.map(|text| {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(text.as_bytes()).unwrap();
        f
    });
    let env: HashMap<String, String> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    (
        ConfigSource {
            file: file.as_ref().map(|f| f.path().to_path_buf()),
            env,
        },
        file,
    )
}

fn load(toml: Option<&str>, env: &[(&str, &str)]) -> Result<Loaded, ConfigError> {
    let (src, _file) = source(toml, env);
    src.load()
}

#[test]
fn no_file_gives_the_embedded_defaults() {
    let loaded = load(None, &[]).unwrap();
    assert_eq!(loaded.origin, Origin::Defaults);
    let c = loaded.config;
    assert_eq!(c.server.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(c.database.url.as_str(), "sqlite://salesbot.db?mode=rwc");
    assert_eq!(c.server.body_limit_bytes, 1024 * 1024);
    assert!(c.admin.token.is_none());
}

#[test]
fn file_values_replace_defaults_and_keep_the_rest() {
    let c = load(Some("[server]\nlisten = \"0.0.0.0:9000\"\n"), &[])
        .unwrap()
        .config;
    assert_eq!(c.server.listen.to_string(), "0.0.0.0:9000");
    assert_eq!(c.server.public_base_url, "http://127.0.0.1:8080");
}

#[test]
fn environment_overrides_the_file_with_typed_values() {
    let c = load(
        Some("[server]\nbody_limit_bytes = 10\n[database]\nurl = \"sqlite://a.db\"\n"),
        &[
            ("SALESBOT_SERVER__BODY_LIMIT_BYTES", "2048"),
            ("SALESBOT_DATABASE__URL", "postgres://u:pw@db/x"),
            ("SALESBOT_ADMIN__TOKEN", "12345"),
            ("SALESBOT_LOG__FORMAT", "json"),
        ],
    )
    .unwrap()
    .config;
    assert_eq!(c.server.body_limit_bytes, 2048);
    assert_eq!(c.database.url.as_str(), "postgres://u:pw@db/x");
    // Digits stay a string where a string is expected.
    assert_eq!(c.admin.token.unwrap().expose(), "12345");
    assert_eq!(c.log.format, LogFormat::Json);
}

#[test]
fn variables_without_a_level_separator_are_not_overrides() {
    // SALESBOT_CONFIG names the file; SALESBOT_ADMIN_TOKEN is a secret named by env:.
    let c = load(
        Some("[admin]\ntoken = \"env:SALESBOT_ADMIN_TOKEN\"\n"),
        &[
            ("SALESBOT_CONFIG", "/x.toml"),
            ("SALESBOT_ADMIN_TOKEN", "s3cret"),
        ],
    )
    .unwrap()
    .config;
    assert_eq!(c.admin.token.unwrap().expose(), "s3cret");
}

#[test]
fn env_indirection_reads_the_named_variable() {
    let c = load(
        Some("[database]\nurl = \"env:DB_URL\"\n"),
        &[("DB_URL", "postgres://h/db")],
    )
    .unwrap()
    .config;
    assert_eq!(c.database.url.as_str(), "postgres://h/db");
    // An override may use indirection too.
    let c = load(
        None,
        &[
            ("SALESBOT_ADMIN__TOKEN", "env:TOKEN_VAR"),
            ("TOKEN_VAR", "abc"),
        ],
    )
    .unwrap()
    .config;
    assert_eq!(c.admin.token.unwrap().expose(), "abc");
}

#[test]
fn env_indirection_to_a_missing_variable_names_key_and_variable() {
    let err = load(Some("[admin]\ntoken = \"env:NOPE_NOT_SET\"\n"), &[]).unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(err, ConfigError::Key { ref key, .. } if key == "admin.token"),
        "{text}"
    );
    assert!(
        text.contains("NOPE_NOT_SET") && text.contains("not set"),
        "{text}"
    );
    let err = load(Some("[admin]\ntoken = \"env:\"\n"), &[]).unwrap_err();
    assert!(err.to_string().contains("variable name"), "{err}");
}

#[test]
fn unknown_key_in_the_file_is_named() {
    let err = load(Some("[server]\nlistn = \"0.0.0.0:1\"\n"), &[]).unwrap_err();
    assert!(
        matches!(err, ConfigError::Key { ref key, .. } if key == "server.listn"),
        "{err}"
    );
    assert!(err.to_string().contains("unknown field"), "{err}");
    let err = load(Some("[servr]\n"), &[]).unwrap_err();
    assert!(
        matches!(err, ConfigError::Key { ref key, .. } if key == "servr"),
        "{err}"
    );
}

#[test]
fn unknown_key_from_the_environment_names_the_variable() {
    let err = load(None, &[("SALESBOT_SERVER__LISTN", "x")]).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("server.listn") && text.contains("SALESBOT_SERVER__LISTN"),
        "{text}"
    );
}

#[test]
fn wrong_type_names_the_key_and_the_reason() {
    let err = load(Some("[server]\nlisten = 8080\n"), &[]).unwrap_err();
    assert!(
        matches!(err, ConfigError::Key { ref key, .. } if key == "server.listen"),
        "{err}"
    );
    let err = load(Some("[server]\nlisten = \"localhost\"\n"), &[]).unwrap_err();
    assert!(err.to_string().contains("server.listen"), "{err}");
    let err = load(None, &[("SALESBOT_SERVER__BODY_LIMIT_BYTES", "lots")]).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("SALESBOT_SERVER__BODY_LIMIT_BYTES") && text.contains("whole number"),
        "{text}"
    );
    let err = load(
        None,
        &[
            ("SALESBOT_SERVER", "x"),
            ("SALESBOT_SERVER__LISTEN__PORT", "1"),
        ],
    )
    .unwrap_err();
    assert!(err.to_string().contains("single value"), "{err}");
}

#[test]
fn syntax_errors_name_the_file_and_line() {
    let (src, file) = source(Some("[server]\nlisten = \n"), &[]);
    let err = src.load().unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, ConfigError::Syntax { .. }));
    assert!(
        text.contains(&file.unwrap().path().display().to_string()) && text.contains("line 2"),
        "{text}"
    );
}

#[test]
fn a_missing_file_is_a_read_error() {
    let src = ConfigSource {
        file: Some("/nonexistent/salesbot.toml".into()),
        env: HashMap::new(),
    };
    let err = src.load().unwrap_err();
    assert!(matches!(err, ConfigError::Read { .. }));
    assert!(err.to_string().contains("/nonexistent/salesbot.toml"));
}

#[test]
fn invalid_values_are_rejected_by_key() {
    for (toml, key) in [
        ("[database]\nurl = \"mysql://x/y\"\n", "database.url"),
        (
            "[server]\npublic_base_url = \"ftp://x\"\n",
            "server.public_base_url",
        ),
        (
            "[server]\nbody_limit_bytes = 0\n",
            "server.body_limit_bytes",
        ),
        ("[pipeline]\nworkers = 0\n", "pipeline.workers"),
        (
            "[pipeline]\nretry_base_ms = 500\nretry_max_ms = 100\n",
            "pipeline.retry_max_ms",
        ),
        ("[log]\nformat = \"xml\"\n", "log.format"),
    ] {
        let err = load(Some(toml), &[]).unwrap_err();
        assert!(err.to_string().contains(key), "{toml}: {err}");
    }
}

#[test]
fn rust_log_wins_over_the_configured_filter() {
    let c = load(Some("[log]\nfilter = \"warn\"\n"), &[("RUST_LOG", "debug")])
        .unwrap()
        .config;
    assert_eq!(c.log.filter, "debug");
}

#[test]
fn secrets_never_appear_in_debug_or_serialized_output() {
    let c = load(
        Some("[admin]\ntoken = \"tok-SECRET-1\"\n[database]\nurl = \"postgres://app:pw-SECRET-2@db:5432/x\"\n"),
        &[],
    )
    .unwrap()
    .config;
    let debug = format!("{c:?}");
    let printed = toml::to_string(&c).unwrap();
    for out in [&debug, &printed] {
        assert!(!out.contains("SECRET"), "{out}");
        assert!(out.contains("postgres://app:***@db:5432/x"), "{out}");
    }
    assert!(debug.contains("[redacted]"));
    assert_eq!(c.admin.token.unwrap().expose(), "tok-SECRET-1");
}

#[test]
fn database_url_redaction_keeps_urls_without_password() {
    assert_eq!(
        DatabaseUrl("postgres://u@h/d".into()).redacted(),
        "postgres://u@h/d"
    );
    assert_eq!(
        DatabaseUrl("sqlite://x.db?mode=rwc".into()).redacted(),
        "sqlite://x.db?mode=rwc"
    );
    assert_eq!(
        DatabaseUrl("postgres://u:p@h/d".into()).redacted(),
        "postgres://u:***@h/d"
    );
}

const WECOM: &str = r#"
[[wecom]]
tenant = "acme"
corp_id = "ww1436e0e65a779aee"
agent_id = 1000002
secret = "env:ACME_SECRET"
callback_token = "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo"
encoding_aes_key = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt"
"#;

#[test]
fn wecom_tenants_load_with_defaults_and_overrides() {
    let c = load(
        Some(WECOM),
        &[
            ("ACME_SECRET", "app-secret"),
            ("SALESBOT_WECOM__0__AGENT_ID", "1000003"),
        ],
    )
    .unwrap()
    .config;
    let app = &c.wecom[0];
    assert_eq!((app.tenant.as_str(), app.agent_id), ("acme", 1000003));
    assert_eq!(app.secret.expose(), "app-secret");
    assert_eq!(app.api_base, WECOM_API_BASE);
    assert_eq!(
        (
            app.rate_limit_per_minute,
            app.request_timeout_secs,
            app.max_clock_skew_secs
        ),
        (600, 10, None)
    );
    assert_eq!(
        (app.message_format, app.duplicate_check_secs),
        (MessageFormat::Card, 1800)
    );
    assert_eq!(c.templates.locale, "zh-CN");
    let printed = format!("{c:?}{}", toml::to_string(&c).unwrap());
    assert!(
        !printed.contains("app-secret")
            && !printed.contains("hJqcu3uJ9")
            && !printed.contains("6qkdMrq"),
        "{printed}"
    );
}

#[test]
fn invalid_wecom_tables_name_the_key() {
    let env = [("ACME_SECRET", "s")];
    for (from, to, key) in [
        (
            "tenant = \"acme\"",
            "tenant = \"Acme Corp\"",
            "wecom[0].tenant",
        ),
        (
            "encoding_aes_key = \"6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt\"",
            "encoding_aes_key = \"short\"",
            "wecom[0].encoding_aes_key",
        ),
        (
            "callback_token = \"hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo\"",
            "callback_token = \"has space\"",
            "wecom[0].callback_token",
        ),
        (
            "corp_id = \"ww1436e0e65a779aee\"",
            "corp_id = \"\"",
            "wecom[0].corp_id",
        ),
        (
            "agent_id = 1000002",
            "agent_id = 1000002\napi_base = \"ftp://x\"",
            "wecom[0].api_base",
        ),
        (
            "agent_id = 1000002",
            "agent_id = 1000002\nsecrte = \"x\"",
            "wecom[0].secrte",
        ),
        ("agent_id = 1000002\n", "", "wecom[0].agent_id"),
    ] {
        let err = load(Some(&WECOM.replace(from, to)), &env).unwrap_err();
        assert!(err.to_string().contains(key), "{key}: {err}");
    }
    let twice = format!("{WECOM}{WECOM}");
    assert!(
        load(Some(&twice), &env)
            .unwrap_err()
            .to_string()
            .contains("wecom[1].tenant")
    );
    let err = load(Some(WECOM), &[]).unwrap_err();
    assert!(
        err.to_string().contains("wecom[0].secret") && err.to_string().contains("ACME_SECRET"),
        "{err}"
    );
    let err = load(None, &[("SALESBOT_WECOM__0__SECRET", "x")]).unwrap_err();
    assert!(err.to_string().contains("out of range"), "{err}");
}

const DINGTALK: &str = r#"
[[dingtalk]]
tenant = "acme"
app_key = "ding6ccabc44d2c8d38b"
app_secret = "env:DING_SECRET"
agent_id = 123456789
callback_token = "mryue"
aes_key = "Yue0EfdN5900c1ce5cf6A152c63DDe1808a60c5ecd7"
"#;

#[test]
fn dingtalk_tenants_load_and_default_the_receive_id_to_the_app_key() {
    let c = load(Some(DINGTALK), &[("DING_SECRET", "s3")])
        .unwrap()
        .config;
    assert_eq!(c.dingtalk[0].receive_id(), "ding6ccabc44d2c8d38b");
    assert_eq!(c.dingtalk[0].app_secret.expose(), "s3");
    let legacy = load(
        Some(&format!("{DINGTALK}receive_id = \"dingcorp\"\n")),
        &[("DING_SECRET", "s3")],
    )
    .unwrap()
    .config;
    assert_eq!(legacy.dingtalk[0].receive_id(), "dingcorp");
    assert!(!format!("{c:?}").contains("Yue0EfdN"));
}

#[test]
fn invalid_dingtalk_tables_name_the_key() {
    let env = [("DING_SECRET", "s")];
    for (from, to, key) in [
        (
            "tenant = \"acme\"",
            "tenant = \"ACME\"",
            "dingtalk[0].tenant",
        ),
        (
            "callback_token = \"mryue\"",
            "callback_token = \"ab\"",
            "dingtalk[0].callback_token",
        ),
        (
            "aes_key = \"Yue0EfdN5900c1ce5cf6A152c63DDe1808a60c5ecd7\"",
            "aes_key = \"x\"",
            "dingtalk[0].aes_key",
        ),
        (
            "app_key = \"ding6ccabc44d2c8d38b\"",
            "app_key = \" \"",
            "dingtalk[0].app_key",
        ),
        (
            "agent_id = 123456789",
            "agent_id = 123456789\nmdoe = \"http\"",
            "dingtalk[0].mdoe",
        ),
        (
            "agent_id = 123456789",
            "agent_id = 123456789\nmode = \"websocket\"",
            "dingtalk[0].mode",
        ),
    ] {
        let err = load(Some(&DINGTALK.replace(from, to)), &env).unwrap_err();
        assert!(err.to_string().contains(key), "{key}: {err}");
    }
}

const WEBHOOK: &str = r#"
[[webhooks]]
name = "crm"
url = "https://crm.example.com/hooks/salesbot"
secret = "env:CRM_HOOK_SECRET"
"#;

#[test]
fn webhooks_load_with_defaults_and_filters() {
    let env = [("CRM_HOOK_SECRET", "whsec-SECRET-3")];
    let c = load(Some(WEBHOOK), &env).unwrap().config;
    let hook = &c.webhooks[0];
    assert_eq!(
        (hook.name.as_str(), hook.url.as_str()),
        ("crm", "https://crm.example.com/hooks/salesbot")
    );
    assert_eq!(hook.secret.expose(), "whsec-SECRET-3");
    assert!(hook.events.is_empty() && hook.tenants.is_empty());
    assert_eq!(hook.timeout_secs, 10);

    let filtered = format!(
        "{WEBHOOK}events = [\"approval.\", \"customer.added\"]\ntenants = [\"acme\"]\n\
         timeout_secs = 5\n"
    );
    let c = load(
        Some(&filtered),
        &[
            ("CRM_HOOK_SECRET", "s"),
            ("SALESBOT_WEBHOOKS__0__URL", "http://10.0.0.5:9000/in"),
        ],
    )
    .unwrap()
    .config;
    let hook = &c.webhooks[0];
    assert_eq!(hook.events, ["approval.", "customer.added"]);
    assert_eq!(hook.tenants, ["acme"]);
    assert_eq!(hook.timeout_secs, 5);
    assert_eq!(hook.url, "http://10.0.0.5:9000/in");
}

#[test]
fn webhook_secrets_never_appear_in_debug_or_serialized_output() {
    let c = load(Some(WEBHOOK), &[("CRM_HOOK_SECRET", "whsec-SECRET-3")])
        .unwrap()
        .config;
    let printed = format!("{c:?}{}", toml::to_string(&c).unwrap());
    assert!(!printed.contains("SECRET"), "{printed}");
    assert!(printed.contains("[redacted]"), "{printed}");
}

#[test]
fn invalid_webhook_tables_name_the_key() {
    let env = [("CRM_HOOK_SECRET", "s")];
    let url = "url = \"https://crm.example.com/hooks/salesbot\"";
    for (from, to, key) in [
        (url, "url = \"ftp://crm.example.com/x\"", "webhooks[0].url"),
        (url, "url = \"crm.example.com/x\"", "webhooks[0].url"),
        (url, "url = \"https://\"", "webhooks[0].url"),
        ("name = \"crm\"", "name = \"CRM hook\"", "webhooks[0].name"),
        ("name = \"crm\"", "name = \"\"", "webhooks[0].name"),
        (
            "name = \"crm\"",
            &format!("name = \"{}\"", "a".repeat(33)),
            "webhooks[0].name",
        ),
        (url, &format!("{url}\nurll = \"x\""), "webhooks[0].urll"),
        (
            url,
            &format!("{url}\nevents = [\"\"]"),
            "webhooks[0].events[0]",
        ),
        (
            url,
            &format!("{url}\ntenants = [\"acme\", \"Acme\"]"),
            "webhooks[0].tenants[1]",
        ),
        (
            url,
            &format!("{url}\ntimeout_secs = 0"),
            "webhooks[0].timeout_secs",
        ),
        (
            url,
            &format!("{url}\ntimeout_secs = 60"),
            "webhooks[0].timeout_secs",
        ),
        (
            "secret = \"env:CRM_HOOK_SECRET\"\n",
            "",
            "webhooks[0].secret",
        ),
        ("name = \"crm\"\n", "", "webhooks[0].name"),
    ] {
        let toml = WEBHOOK.replace(from, to);
        let err = load(Some(&toml), &env).unwrap_err();
        assert!(err.to_string().contains(key), "{key}: {err}");
    }
    let twice = format!("{WEBHOOK}{WEBHOOK}");
    let err = load(Some(&twice), &env).unwrap_err();
    assert!(
        err.to_string().contains("webhooks[1].name") && err.to_string().contains("another"),
        "{err}"
    );
    let empty = load(Some(WEBHOOK), &[("CRM_HOOK_SECRET", "")]).unwrap_err();
    assert!(empty.to_string().contains("webhooks[0].secret"), "{empty}");
}

#[test]
fn registrations_are_off_by_default_and_need_a_salt_with_their_secret() {
    let c = load(None, &[]).unwrap().config;
    assert!(c.registrations.enabled().is_none());

    let text = "[registrations]\nsecret = \"env:FORM_SECRET\"\nphone_salt = \"env:PHONE_SALT\"\n";
    let env = [
        ("FORM_SECRET", "form-SECRET-1"),
        ("PHONE_SALT", "salt-SECRET-0123456789"),
    ];
    let c = load(Some(text), &env).unwrap().config;
    let (secret, salt) = c.registrations.enabled().unwrap();
    assert_eq!(
        (secret.expose(), salt.expose()),
        ("form-SECRET-1", "salt-SECRET-0123456789")
    );
    let printed = format!("{c:?}{}", toml::to_string(&c).unwrap());
    assert!(!printed.contains("SECRET"), "{printed}");

    for (toml, env, key, reason) in [
        (
            "[registrations]\nsecret = \"s\"\n",
            &[][..],
            "registrations.phone_salt",
            "must be set",
        ),
        (
            "[registrations]\nsecret = \"s\"\nphone_salt = \"short\"\n",
            &[],
            "registrations.phone_salt",
            "at least 16",
        ),
        (
            "[registrations]\nsecret = \"\"\nphone_salt = \"0123456789abcdef\"\n",
            &[],
            "registrations.secret",
            "empty",
        ),
        (
            "[registrations]\nsecrett = \"s\"\n",
            &[],
            "registrations.secrett",
            "",
        ),
    ] {
        let err = load(Some(toml), env).unwrap_err().to_string();
        assert!(err.contains(key) && err.contains(reason), "{toml}: {err}");
    }
}

#[test]
fn links_load_with_defaults_and_a_salt_from_the_environment() {
    let c = load(None, &[]).unwrap().config;
    assert!(c.links.salt.is_none());
    assert_eq!(
        (
            c.links.buffer_capacity,
            c.links.batch_size,
            c.links.flush_interval_ms,
            c.links.cache_capacity,
            c.links.trust_forwarded_for
        ),
        (100_000, 1000, 200, 100_000, false)
    );
    let c = load(
        Some("[links]\nsalt = \"env:LINK_SALT\"\nbatch_size = 50\n"),
        &[
            ("LINK_SALT", "0123456789abcdef-salt"),
            ("SALESBOT_LINKS__TRUST_FORWARDED_FOR", "true"),
        ],
    )
    .unwrap()
    .config;
    assert_eq!(
        c.links.salt.as_ref().unwrap().expose(),
        "0123456789abcdef-salt"
    );
    assert_eq!(c.links.batch_size, 50);
    assert!(c.links.trust_forwarded_for);
    let printed = format!("{c:?} {}", toml::to_string(&c).unwrap());
    assert!(!printed.contains("0123456789abcdef-salt"), "{printed}");
    let c = load(None, &[("SALESBOT_LINKS__SALT", "from-the-environment")])
        .unwrap()
        .config;
    assert_eq!(c.links.salt.unwrap().expose(), "from-the-environment");
}

#[test]
fn invalid_links_settings_name_the_key() {
    for (toml, key) in [
        ("[links]\nsalt = \"short\"\n", "links.salt"),
        ("[links]\nbuffer_capacity = 0\n", "links.buffer_capacity"),
        ("[links]\nbatch_size = 0\n", "links.batch_size"),
        ("[links]\nbatch_size = 10001\n", "links.batch_size"),
        (
            "[links]\nflush_interval_ms = 0\n",
            "links.flush_interval_ms",
        ),
        ("[links]\ncache_capacity = 0\n", "links.cache_capacity"),
        ("[links]\nbufer_capacity = 10\n", "links.bufer_capacity"),
    ] {
        let err = load(Some(toml), &[]).unwrap_err();
        assert!(err.to_string().contains(key), "{toml}: {err}");
    }
}
