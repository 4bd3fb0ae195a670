//! Component stdout/stderr, kept as Spin keeps them: both written through to
//! the host's own stderr (Spin forwards a component's stdout to its stderr
//! too, so the host's stdout carries only its banner), and appended to
//! `.spin/logs/<component>_stdout.txt` and `_stderr.txt` respectively. Each
//! guest write is passed on whole, under one lock, so lines of concurrent
//! instances do not interleave.

use bytes::Bytes;
use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError, StreamResult};

#[derive(Clone, Copy)]
pub enum Which {
    Stdout,
    Stderr,
}

#[derive(Clone)]
pub struct ComponentLog {
    file: Option<Arc<Mutex<File>>>,
}

impl ComponentLog {
    pub fn open(dir: Option<&Path>, component: &str, which: Which) -> anyhow::Result<Self> {
        let file = match dir {
            Some(dir) => {
                std::fs::create_dir_all(dir)?;
                let suffix = match which {
                    Which::Stdout => "stdout",
                    Which::Stderr => "stderr",
                };
                let path = dir.join(format!("{component}_{suffix}.txt"));
                Some(Arc::new(Mutex::new(std::fs::OpenOptions::new().create(true).append(true).open(path)?)))
            }
            None => None,
        };
        Ok(Self { file })
    }

    fn write_all(&self, bytes: &[u8]) -> std::io::Result<()> {
        // Terminal first (the host's stderr, under its lock, whole write),
        // then the file.
        std::io::stderr().lock().write_all(bytes)?;
        if let Some(file) = &self.file {
            file.lock().unwrap_or_else(|p| p.into_inner()).write_all(bytes)?;
        }
        Ok(())
    }
}

impl IsTerminal for ComponentLog {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for ComponentLog {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

#[async_trait::async_trait]
impl Pollable for ComponentLog {
    async fn ready(&mut self) {}
}

impl OutputStream for ComponentLog {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.write_all(&bytes).map_err(|e| StreamError::LastOperationFailed(wasmtime::format_err!(e)))
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(1024 * 1024)
    }
}

impl tokio::io::AsyncWrite for ComponentLog {
    fn poll_write(self: Pin<&mut Self>, _cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        Poll::Ready(self.write_all(buf).map(|()| buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
