//! The template's `Conditions`, `Rules` and `!If`s evaluated for given parameter values, as
//! CloudFormation evaluates them at deploy time. There is no CloudFormation here: this is what
//! lets the tests check what a stack holds with a switch on or off (the edge, `RequireAuth`), and
//! lets the local gateway read which routes sit behind the JWT authorizer.
//!
//! Only the functions conditions and rules use are understood (`Ref`, `Condition`, `Fn::Equals`,
//! `Fn::Not`, `Fn::And`, `Fn::Or`, `Fn::Contains`, `Fn::If` and `AWS::NoValue`); anything else is
//! an error rather than a guess.

use std::collections::BTreeMap;

use anyhow::{Context as _, bail};
use serde_yaml_ng::Value;

use super::shapes::Document;

/// Values of parameters, and of pseudo parameters such as `AWS::Region`, to evaluate the
/// template under. A parameter not set takes its `Default`; a pseudo parameter not set is an error
/// where it is used.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    values: BTreeMap<String, String>,
}

impl Settings {
    /// Every parameter at its default.
    pub fn defaults() -> Self {
        Self::default()
    }

    /// These settings with `name` set to `value` (a list parameter as its comma-separated text).
    #[must_use]
    pub fn with(mut self, name: &str, value: &str) -> Self {
        self.values.insert(name.to_owned(), value.to_owned());
        self
    }
}

/// A value as conditions see it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Scalar {
    Text(String),
    List(Vec<String>),
    Bool(bool),
}

/// An intrinsic function call, in short (`!Equals [...]`) or long (`Fn::Equals: [...]`) form:
/// its name without `Fn::` or `!`, and its argument.
fn call(value: &Value) -> Option<(String, &Value)> {
    match value {
        Value::Tagged(t) => {
            let tag = t.tag.to_string();
            Some((tag.trim_start_matches('!').to_owned(), &t.value))
        }
        Value::Mapping(m) if m.len() == 1 => {
            let (key, arg) = m.iter().next()?;
            let key = key.as_str()?;
            let name = match key {
                "Ref" | "Condition" => key,
                _ => key.strip_prefix("Fn::")?,
            };
            Some((name.to_owned(), arg))
        }
        _ => None,
    }
}

pub(super) struct Evaluator<'a> {
    pub(super) doc: &'a Document,
    pub(super) settings: &'a Settings,
}

impl Evaluator<'_> {
    fn parameter(&self, name: &str) -> anyhow::Result<Scalar> {
        let spec = self.doc.parameters.get(name);
        let text = match (self.settings.values.get(name), spec) {
            (Some(value), _) => value.clone(),
            (None, Some(spec)) => match &spec.default {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Number(n)) => n.to_string(),
                Some(Value::Bool(b)) => b.to_string(),
                Some(other) => bail!("parameter {name}: a Default of {other:?} is not understood"),
                None => bail!("parameter {name} has no Default and is not set"),
            },
            (None, None) if name.starts_with("AWS::") => {
                bail!("the pseudo parameter {name} is used but not set")
            }
            (None, None) => bail!("{name} is not a parameter of the template"),
        };
        let list = spec.is_some_and(|s| s.kind == "CommaDelimitedList");
        Ok(if list {
            // CloudFormation splits "" into one empty entry, not none.
            Scalar::List(text.split(',').map(str::to_owned).collect())
        } else {
            Scalar::Text(text)
        })
    }

    fn scalar(&self, value: &Value) -> anyhow::Result<Scalar> {
        if let Some((name, arg)) = call(value) {
            let args = || {
                arg.as_sequence()
                    .with_context(|| format!("Fn::{name} takes a list"))
            };
            return Ok(match name.as_str() {
                "Ref" => self.parameter(arg.as_str().context("Ref takes a name")?)?,
                "Condition" => {
                    Scalar::Bool(self.condition(arg.as_str().context("Condition takes a name")?)?)
                }
                "Equals" => match args()?.as_slice() {
                    [a, b] => Scalar::Bool(self.scalar(a)? == self.scalar(b)?),
                    _ => bail!("Fn::Equals takes two values"),
                },
                "Not" => match args()?.as_slice() {
                    [a] => Scalar::Bool(!self.truth(a)?),
                    _ => bail!("Fn::Not takes one condition"),
                },
                // Left to right, stopping at the first that decides, as a reader would: a
                // pseudo parameter need only be set where it matters.
                "And" => {
                    for a in args()? {
                        if !self.truth(a)? {
                            return Ok(Scalar::Bool(false));
                        }
                    }
                    Scalar::Bool(true)
                }
                "Or" => {
                    for a in args()? {
                        if self.truth(a)? {
                            return Ok(Scalar::Bool(true));
                        }
                    }
                    Scalar::Bool(false)
                }
                "Contains" => match args()?.as_slice() {
                    [list, item] => {
                        let Scalar::List(list) = self.scalar(list)? else {
                            bail!("Fn::Contains takes a list first");
                        };
                        let Scalar::Text(item) = self.scalar(item)? else {
                            bail!("Fn::Contains takes a string second");
                        };
                        Scalar::Bool(list.contains(&item))
                    }
                    _ => bail!("Fn::Contains takes a list and a string"),
                },
                other => bail!("Fn::{other} is not understood in a condition"),
            });
        }
        Ok(match value {
            Value::String(s) => Scalar::Text(s.clone()),
            Value::Number(n) => Scalar::Text(n.to_string()),
            Value::Bool(b) => Scalar::Bool(*b),
            Value::Sequence(items) => Scalar::List(
                items
                    .iter()
                    .map(|i| match self.scalar(i)? {
                        Scalar::Text(s) => Ok(s),
                        other => bail!("a list of {other:?} is not understood"),
                    })
                    .collect::<anyhow::Result<_>>()?,
            ),
            other => bail!("{other:?} is not understood in a condition"),
        })
    }

    fn truth(&self, value: &Value) -> anyhow::Result<bool> {
        match self.scalar(value)? {
            Scalar::Bool(b) => Ok(b),
            other => bail!("{other:?} is not a condition"),
        }
    }

    /// Whether the named condition of `Conditions` holds.
    pub(super) fn condition(&self, name: &str) -> anyhow::Result<bool> {
        let body = self
            .doc
            .conditions
            .get(name)
            .with_context(|| format!("no condition {name}"))?;
        self.truth(body)
            .with_context(|| format!("evaluating condition {name}"))
    }

    /// `value` with every `Fn::If` replaced by its chosen branch and every `AWS::NoValue` left
    /// out; `None` when the value itself is `AWS::NoValue`. Other intrinsics stay as written.
    pub(super) fn resolve(&self, value: &Value) -> anyhow::Result<Option<Value>> {
        if let Some((name, arg)) = call(value) {
            if name == "If" {
                let Some([condition, yes, no]) = arg.as_sequence().map(Vec::as_slice) else {
                    bail!("Fn::If takes a condition and two values");
                };
                let condition = condition.as_str().context("Fn::If names a condition")?;
                let chosen = if self.condition(condition)? { yes } else { no };
                return self.resolve(chosen);
            }
            if name == "Ref" && arg.as_str() == Some("AWS::NoValue") {
                return Ok(None);
            }
        }
        Ok(Some(match value {
            Value::Mapping(m) => {
                let mut out = serde_yaml_ng::Mapping::new();
                for (k, v) in m {
                    if let Some(v) = self.resolve(v)? {
                        out.insert(k.clone(), v);
                    }
                }
                Value::Mapping(out)
            }
            Value::Sequence(items) => Value::Sequence(
                items
                    .iter()
                    .filter_map(|i| self.resolve(i).transpose())
                    .collect::<anyhow::Result<_>>()?,
            ),
            other => other.clone(),
        }))
    }

    /// The rules whose condition holds and one of whose assertions does not: the ones that
    /// would stop the deploy.
    pub(super) fn broken_rules(&self) -> anyhow::Result<Vec<String>> {
        let mut broken = Vec::new();
        for (name, rule) in &self.doc.rules {
            let applies = match &rule.rule_condition {
                Some(c) => self.truth(c).with_context(|| format!("rule {name}"))?,
                None => true,
            };
            if !applies {
                continue;
            }
            for assertion in &rule.assertions {
                if !self
                    .truth(&assertion.assert)
                    .with_context(|| format!("rule {name}"))?
                {
                    broken.push(name.clone());
                    break;
                }
            }
        }
        Ok(broken)
    }
}
