//! Messages rendered ahead of the dialing front, and the run's progress bars.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use media::prompt::Prompt;
use media::prompt::template::Segment;
use tokio::sync::mpsc;

use super::Dial;
use crate::campaign::message::PreparedScript;

pub(super) type Rendered = (
    Dial,
    Result<Option<Arc<Prompt>>, Arc<media::prompt::RenderError>>,
);

/// Renders messages in the order the feed hands them over, a few at a
/// time in parallel, into a bounded channel that keeps the renderer at
/// most `lookahead` ahead. A message the same as the last one rendered
/// (nothing personal in it) is not rendered again.
pub(super) fn spawn_renderer(
    script: Arc<PreparedScript>,
    input: mpsc::Receiver<Dial>,
    lookahead: usize,
    bar: ProgressBar,
) -> mpsc::Receiver<Rendered> {
    type Rendering = Result<Option<Arc<Prompt>>, Arc<media::prompt::RenderError>>;
    type Last = std::sync::Mutex<Option<(Vec<Segment>, Rendering)>>;
    let (tx, rx) = mpsc::channel(lookahead);
    let parallel = std::thread::available_parallelism().map_or(2, |n| n.get());
    let last: Arc<Last> = Arc::default();
    tokio::spawn(async move {
        let dials = futures::stream::unfold(input, |mut input| async move {
            input.recv().await.map(|dial| (dial, input))
        });
        let stream = dials
            .map(|dial| {
                let script = script.clone();
                let last = last.clone();
                async move {
                    let Some(segments) = &dial.opening else {
                        return (dial, Ok(None));
                    };
                    let cached = last
                        .lock()
                        .expect("never held across a panic")
                        .as_ref()
                        .filter(|(same, _)| same == segments)
                        .map(|(_, rendering)| rendering.clone());
                    if let Some(rendering) = cached {
                        return (dial, rendering);
                    }
                    let rendering: Rendering = script
                        .render_segments(&dial.contact.id, segments)
                        .await
                        .map(|p| Some(Arc::new(p)))
                        .map_err(Arc::new);
                    *last.lock().expect("never held across a panic") =
                        Some((segments.clone(), rendering.clone()));
                    (dial, rendering)
                }
            })
            .buffered(parallel);
        let mut stream = std::pin::pin!(stream);
        while let Some(item) = stream.next().await {
            bar.inc(1);
            if tx.send(item).await.is_err() {
                break;
            }
        }
    });
    rx
}

/// The run's two progress bars: messages rendered, calls finished.
pub(super) struct Bars {
    pub(super) multi: MultiProgress,
    pub(super) render: ProgressBar,
    pub(super) calls: ProgressBar,
}

impl Bars {
    pub(super) fn new(enabled: bool, total: usize) -> Bars {
        if !enabled {
            return Bars {
                multi: MultiProgress::new(),
                render: ProgressBar::hidden(),
                calls: ProgressBar::hidden(),
            };
        }
        let multi = MultiProgress::new();
        let style = |template: &str| {
            ProgressStyle::with_template(template)
                .expect("the template is valid")
                .progress_chars("=> ")
        };
        let render = multi.add(ProgressBar::new(total as u64));
        render.set_style(style(
            "  messages [{elapsed_precise}] {bar:30} {pos}/{len} rendered",
        ));
        let calls = multi.add(ProgressBar::new(total as u64));
        calls.set_style(style(
            "{spinner} calls    [{elapsed_precise}] {bar:30} {pos}/{len} done  {msg}",
        ));
        calls.enable_steady_tick(Duration::from_millis(200));
        Bars {
            multi,
            render,
            calls,
        }
    }

    pub(super) fn finish(&self) {
        self.render.finish_and_clear();
        self.calls.finish_and_clear();
        let _ = self.multi.clear();
    }
}
