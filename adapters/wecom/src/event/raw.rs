//! Every element a callback may carry, as optional text borrowed from the XML where possible.
//! The typed events are built from this, so a missing optional field never fails a parse.
//! Read in one streaming pass: this is on the path of every callback.

use std::borrow::Cow;

use quick_xml::{Reader, events::Event as XmlEvent};

use super::{
    CardTap, Event, EventError, ExternalChatChange, ExternalContactChange, ExternalTagChange,
    SelectedItem, TextMessage,
};
use crate::xml::{XmlError, reject_dtd, resolve_reference};

/// Declares the flat struct of top-level elements and the lookup from element names.
macro_rules! raw_fields {
    ($($field:ident = $name:literal,)*) => {
        #[derive(Debug, Default)]
        pub(super) struct Raw<'a> {
            $(pub $field: Option<Cow<'a, str>>,)*
            pub mem_change_list: Option<Vec<String>>,
            pub selected_items: Option<Vec<SelectedItem>>,
        }

        /// Names of the top-level elements read into fields, in declaration order.
        const FIELD_NAMES: &[&str] = &[$($name),*];

        impl<'a> Raw<'a> {
            /// The slot of the `i`th name of [`FIELD_NAMES`].
            fn slot_at(&mut self, i: usize) -> Option<&mut Option<Cow<'a, str>>> {
                [$(&mut self.$field),*].into_iter().nth(i)
            }
        }
    };
}

raw_fields! {
    to_user_name = "ToUserName",
    from_user_name = "FromUserName",
    create_time = "CreateTime",
    msg_type = "MsgType",
    event = "Event",
    agent_id = "AgentID",
    change_type = "ChangeType",
    user_id = "UserID",
    external_user_id = "ExternalUserID",
    state = "State",
    welcome_code = "WelcomeCode",
    source = "Source",
    fail_reason = "FailReason",
    chat_id = "ChatId",
    update_detail = "UpdateDetail",
    join_scene = "JoinScene",
    quit_scene = "QuitScene",
    mem_change_cnt = "MemChangeCnt",
    last_mem_ver = "LastMemVer",
    cur_mem_ver = "CurMemVer",
    id = "Id",
    tag_type = "TagType",
    strategy_id = "StrategyId",
    event_key = "EventKey",
    task_id = "TaskId",
    card_type = "CardType",
    response_code = "ResponseCode",
    content = "Content",
    msg_id = "MsgId",
}

/// Where the reader is: which top-level element, and inside the two nested ones, where.
#[derive(Clone, Copy, PartialEq, Eq)]
enum At {
    Root,
    /// Inside a known top-level element (its text is collected).
    Field,
    /// Inside an element we do not read.
    Skip,
    MemChangeList,
    MemItem,
    SelectedItems,
    SelectedItem,
    QuestionKey,
    OptionIds,
    OptionId,
}

impl<'a> Raw<'a> {
    /// Reads the children of `<xml>` in one pass. Unknown elements are skipped; a known one
    /// given twice is an error, since which copy counts would be a guess.
    pub(super) fn parse(xml: &'a str) -> Result<Self, XmlError> {
        reject_dtd(xml)?;
        let malformed = |e: quick_xml::Error| XmlError::Malformed(e.to_string());
        let mut reader = Reader::from_str(xml);
        let mut raw = Raw::default();
        // One entry per open element below <xml>.
        let mut stack: Vec<At> = Vec::with_capacity(6);
        let (mut seen_root, mut closed_root) = (false, false);
        let mut field: Option<usize> = None;
        let mut text: Cow<'a, str> = Cow::Borrowed("");
        let mut members: Vec<String> = Vec::new();
        let mut items: Vec<SelectedItem> = Vec::new();
        loop {
            let event = reader.read_event().map_err(malformed)?;
            let at = stack.last().copied().unwrap_or(At::Root);
            match event {
                XmlEvent::Start(start) | XmlEvent::Empty(start) if closed_root => {
                    let _ = start;
                    return Err(XmlError::Malformed("content after the root element".into()));
                }
                XmlEvent::Start(start) if !seen_root => {
                    if start.name().as_ref() != "xml" {
                        return Err(XmlError::Root);
                    }
                    seen_root = true;
                }
                XmlEvent::Empty(start) if !seen_root => {
                    if start.name().as_ref() != "xml" {
                        return Err(XmlError::Root);
                    }
                    return Ok(raw);
                }
                XmlEvent::Start(start) => {
                    let name = start.name();
                    let next = Self::enter(at, name.as_ref(), &mut field);
                    if next == At::SelectedItem {
                        items.push(SelectedItem {
                            question_key: String::new(),
                            option_ids: Vec::new(),
                        });
                    }
                    text = Cow::Borrowed("");
                    stack.push(next);
                }
                XmlEvent::Empty(start) => {
                    // An empty element is an element with no text: close it at once.
                    let name = start.name();
                    let next = Self::enter(at, name.as_ref(), &mut field);
                    text = Cow::Borrowed("");
                    raw.leave(next, &mut field, &mut text, &mut members, &mut items)?;
                }
                XmlEvent::End(_) => match stack.pop() {
                    Some(done) => {
                        raw.leave(done, &mut field, &mut text, &mut members, &mut items)?
                    }
                    None => closed_root = true,
                },
                XmlEvent::Text(t) => {
                    if matches!(at, At::Root) && !t.trim_ascii().is_empty() {
                        return Err(XmlError::Malformed("text outside an element".into()));
                    }
                    append(&mut text, t.into_inner());
                }
                XmlEvent::CData(t) => append(&mut text, t.into_inner()),
                XmlEvent::GeneralRef(r) => text.to_mut().push(resolve_reference(&r)?),
                XmlEvent::DocType(_) => return Err(XmlError::Dtd),
                XmlEvent::Eof => break,
                XmlEvent::Comment(_) | XmlEvent::Decl(_) | XmlEvent::PI(_) => {}
            }
        }
        if !closed_root || !stack.is_empty() {
            return Err(XmlError::Malformed(
                "document ended inside an element".into(),
            ));
        }
        if !members.is_empty() {
            raw.mem_change_list = Some(members);
        }
        if !items.is_empty() {
            raw.selected_items = Some(items);
        }
        Ok(raw)
    }

    /// Where an element called `name` opened at `at` leads.
    fn enter(at: At, name: &str, field: &mut Option<usize>) -> At {
        match (at, name) {
            (At::Root, "MemChangeList") => At::MemChangeList,
            (At::Root, "SelectedItems") => At::SelectedItems,
            (At::Root, name) => match FIELD_NAMES.iter().position(|n| *n == name) {
                Some(index) => {
                    *field = Some(index);
                    At::Field
                }
                None => At::Skip,
            },
            (At::MemChangeList, "Item") => At::MemItem,
            (At::SelectedItems, "SelectedItem") => At::SelectedItem,
            (At::SelectedItem, "QuestionKey") => At::QuestionKey,
            (At::SelectedItem, "OptionIds") => At::OptionIds,
            (At::OptionIds, "OptionId") => At::OptionId,
            _ => At::Skip,
        }
    }

    /// Stores the text of the element that just closed.
    fn leave(
        &mut self,
        done: At,
        field: &mut Option<usize>,
        text: &mut Cow<'a, str>,
        members: &mut Vec<String>,
        items: &mut [SelectedItem],
    ) -> Result<(), XmlError> {
        let value = std::mem::replace(text, Cow::Borrowed(""));
        match done {
            At::Field => {
                let index = field.take().unwrap_or_default();
                let slot = self.slot_at(index).ok_or(XmlError::Content("xml"))?;
                if slot.is_some() {
                    return Err(XmlError::Repeated(FIELD_NAMES[index].to_string()));
                }
                *slot = Some(value);
            }
            At::MemItem => members.push(value.trim().to_string()),
            // The comma-separated form of the list.
            At::MemChangeList => members.extend(
                value
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string),
            ),
            At::QuestionKey => {
                if let Some(item) = items.last_mut() {
                    item.question_key = value.trim().to_string();
                }
            }
            At::OptionId => {
                if let Some(item) = items.last_mut() {
                    item.option_ids.push(value.trim().to_string());
                }
            }
            _ => {}
        }
        Ok(())
    }
}

/// Appends a chunk, borrowing while there is only one.
fn append<'a>(text: &mut Cow<'a, str>, chunk: Cow<'a, str>) {
    if text.is_empty() {
        *text = chunk;
    } else {
        text.to_mut().push_str(&chunk);
    }
}

/// Trimmed text, `None` when absent or empty.
pub(super) fn text(value: &Option<Cow<'_, str>>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

/// An integer element, `None` when absent or empty.
pub(super) fn number(
    value: &Option<Cow<'_, str>>,
    name: &'static str,
) -> Result<Option<i64>, EventError> {
    text(value)
        .map(|v| v.parse().map_err(|_| EventError::NotANumber(name)))
        .transpose()
}

impl Raw<'_> {
    pub(super) fn required(
        &self,
        value: &Option<Cow<'_, str>>,
        name: &'static str,
    ) -> Result<String, EventError> {
        text(value).ok_or(EventError::Missing(name))
    }

    /// Maps the flat elements onto the typed event for this MsgType/Event.
    pub(super) fn event(&self) -> Result<Event, EventError> {
        let msg_type = self.required(&self.msg_type, "MsgType")?;
        let event = text(&self.event);
        Ok(match (msg_type.as_str(), event.as_deref()) {
            ("event", Some("change_external_contact")) => {
                Event::ExternalContact(ExternalContactChange {
                    change_type: self.required(&self.change_type, "ChangeType")?,
                    user_id: self.required(&self.user_id, "UserID")?,
                    external_user_id: self.required(&self.external_user_id, "ExternalUserID")?,
                    state: text(&self.state),
                    welcome_code: text(&self.welcome_code),
                    source: text(&self.source),
                    fail_reason: text(&self.fail_reason),
                })
            }
            ("event", Some("change_external_chat")) => Event::ExternalChat(ExternalChatChange {
                change_type: self.required(&self.change_type, "ChangeType")?,
                chat_id: self.required(&self.chat_id, "ChatId")?,
                update_detail: text(&self.update_detail),
                join_scene: number(&self.join_scene, "JoinScene")?,
                quit_scene: number(&self.quit_scene, "QuitScene")?,
                mem_change_cnt: number(&self.mem_change_cnt, "MemChangeCnt")?,
                mem_change_list: self.mem_change_list.clone().unwrap_or_default(),
                last_mem_ver: text(&self.last_mem_ver),
                cur_mem_ver: text(&self.cur_mem_ver),
            }),
            ("event", Some("change_external_tag")) => Event::ExternalTag(ExternalTagChange {
                change_type: self.required(&self.change_type, "ChangeType")?,
                // Empty on a shuffle of all groups.
                id: text(&self.id).unwrap_or_default(),
                tag_type: text(&self.tag_type),
                strategy_id: text(&self.strategy_id),
            }),
            ("event", Some(name @ ("template_card_event" | "template_card_menu_event"))) => {
                let tap = self.card_tap()?;
                if name == "template_card_event" {
                    Event::TemplateCard(tap)
                } else {
                    Event::TemplateCardMenu(tap)
                }
            }
            ("event", Some("enter_agent")) => Event::EnterAgent {
                event_key: text(&self.event_key),
            },
            ("text", _) => Event::Text(TextMessage {
                user_id: self.required(&self.from_user_name, "FromUserName")?,
                // A message may be only whitespace; keep it as sent.
                content: self.content.as_deref().unwrap_or_default().to_string(),
                msg_id: self.required(&self.msg_id, "MsgId")?,
            }),
            _ => Event::Other { msg_type, event },
        })
    }

    fn card_tap(&self) -> Result<CardTap, EventError> {
        let selected_items = self.selected_items.clone().unwrap_or_default();
        Ok(CardTap {
            user_id: self.required(&self.from_user_name, "FromUserName")?,
            event_key: self.required(&self.event_key, "EventKey")?,
            task_id: self.required(&self.task_id, "TaskId")?,
            card_type: text(&self.card_type),
            response_code: text(&self.response_code),
            selected_items,
        })
    }
}
