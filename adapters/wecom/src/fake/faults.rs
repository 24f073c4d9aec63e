//! Faults a test can script for the next calls of a path, and the errmsg texts the fake uses.

use std::time::Duration;

/// What the fake does instead of (or before) answering a call normally.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer HTTP 200 with this errcode, as WeCom reports API errors.
    Errcode(i64),
    /// Answer this HTTP status with a non-JSON body, as a proxy in front of WeCom would.
    HttpStatus(u16),
    /// Wait this long, then answer normally: a slow WeCom.
    Delay(Duration),
}

impl Fault {
    /// 42001, access_token expired.
    pub const TOKEN_EXPIRED: Self = Self::Errcode(42001);
    /// 45009, API frequency limit reached.
    pub const FREQUENCY_LIMIT: Self = Self::Errcode(45009);
    /// −1, system busy.
    pub const SYSTEM_BUSY: Self = Self::Errcode(-1);
    /// HTTP 500.
    pub const SERVER_ERROR: Self = Self::HttpStatus(500);
}

/// Where WeCom's exact errcode for a rejection is not documented (wecom.md marks several as
/// unconfirmed), the fake answers 40058, WeCom's generic "invalid parameter".
pub(crate) const INVALID_PARAMETER: i64 = 40058;
/// Unknown `chat_id` in `groupchat/get`: the fake's choice, not confirmed by wecom.md.
pub(crate) const INVALID_CHAT_ID: i64 = 40050;
/// Invalid `msgtype`.
pub(crate) const INVALID_MSGTYPE: i64 = 40008;
/// The body is not JSON.
pub(crate) const DATA_FORMAT_ERROR: i64 = 47001;

/// An errmsg in WeCom's shape: a short text, a hint and the lookup link. Clients must log it,
/// never parse it.
pub(crate) fn errmsg(errcode: i64) -> String {
    let text = match errcode {
        0 => return "ok".to_owned(),
        -1 => "system busy",
        40001 => "invalid credential",
        40003 => "invalid userid",
        40008 => "invalid message type",
        40013 => "invalid corpid",
        40014 => "invalid access_token",
        40050 => "chatid not found",
        40056 => "invalid agentid",
        40058 => "invalid Parameter",
        40068 => "invalid tagid",
        40096 => "invalid external userid",
        41001 => "access_token missing",
        41051 => "externaluser has started chatting",
        42001 => "access_token expired",
        42045 => "template_card card_action invalid",
        44004 => "empty content",
        45002 => "content size out of limit",
        45009 => "api freq out of limit",
        45033 => "api concurrent out of limit",
        47001 => "data format error",
        60111 => "userid not found",
        81013 => "user & party & tag all invalid",
        84061 => "not external contact",
        _ => "error",
    };
    format!(
        "{text}, hint: [{hint}], from ip: 127.0.0.1, more info at https://open.work.weixin.qq.com/devtool/query?e={errcode}",
        hint = fastrand::u64(..)
    )
}
