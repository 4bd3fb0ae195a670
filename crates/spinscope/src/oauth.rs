//! OAuth 2.1 for the MCP endpoint (the MCP authorization spec; docs/auth.md):
//! spinscope is a resource server. It publishes its Protected Resource
//! Metadata ([`metadata`]), validates access tokens issued for it
//! ([`jwt`], with the issuer's keys, [`jwk`], inline or fetched and
//! cached, [`keys`]), and decides per tool who may
//! list and call it ([`policy`]). The token itself goes no further than
//! the gateway: never to a tool component, a log, a span or a label.

pub mod jwk;
pub mod jwt;
pub mod keys;
pub mod metadata;
pub mod policy;
mod rs256;

#[cfg(test)]
mod tests;
