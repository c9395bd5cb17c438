//! An ordered, bounded parallel map: tasks run on a rayon pool, results are
//! consumed in task order on the calling thread, and at most `window` results
//! are alive at once. Both the generator and the exporter are built on it.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex};

/// Feeds every item of `inputs` to `work` on `threads` workers and every
/// result to `consume` in input order, on the calling thread.
///
/// Workers pull inputs one at a time under a lock, so an iterator that reads
/// sequentially (a file cursor) stays sequential while the work on what it
/// read runs in parallel. A worker takes input `i` only once
/// `i < consumed + window`, so at most `window` inputs and results are alive
/// whatever the relative speed of reading, work and consumer. The first error
/// (from the inputs, the work or the consumer) stops the run and is returned;
/// work already running finishes, no new input is taken.
pub fn ordered_parallel_map<In, T, E, I, W, C>(
    inputs: I,
    threads: usize,
    window: usize,
    work: W,
    mut consume: C,
) -> Result<(), E>
where
    I: Iterator<Item = Result<In, E>> + Send,
    T: Send,
    E: Send,
    W: Fn(In) -> Result<T, E> + Sync,
    C: FnMut(usize, T) -> Result<(), E>,
{
    let threads = threads.max(1);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|index| format!("predbench-worker-{index}"))
        .build()
        .expect("cannot start the worker threads");
    // The input iterator and the index of the next input it yields.
    let source = Mutex::new((inputs, 0usize));
    let window = Window::new(window);
    let (sender, receiver) = crossbeam_channel::unbounded::<(usize, Result<T, E>)>();
    let mut outcome: Result<(), E> = Ok(());
    pool.in_place_scope(|scope| {
        for _ in 0..threads {
            let sender = sender.clone();
            let (source, window, work) = (&source, &window, &work);
            scope.spawn(move |_| {
                while let Some((index, input)) = window.next_input(source) {
                    if sender.send((index, input.and_then(work))).is_err() {
                        return;
                    }
                }
            });
        }
        drop(sender);
        outcome = consume_in_order(&receiver, &window, &mut consume);
        window.stop();
        // Results still in the channel are dropped with it, freeing their memory.
        drop(receiver);
    });
    outcome
}

/// The results, handed to `consume` in input order as they arrive; the
/// window moves on with every one consumed. Stops at the first error.
fn consume_in_order<T, E>(
    receiver: &crossbeam_channel::Receiver<(usize, Result<T, E>)>,
    window: &Window,
    consume: &mut impl FnMut(usize, T) -> Result<(), E>,
) -> Result<(), E> {
    let mut pending: BTreeMap<usize, T> = BTreeMap::new();
    let mut next_to_consume = 0usize;
    for (index, result) in receiver.iter() {
        pending.insert(index, result?);
        while let Some(value) = pending.remove(&next_to_consume) {
            consume(next_to_consume, value)?;
            next_to_consume += 1;
            window.consumed(next_to_consume);
        }
    }
    Ok(())
}

/// How far workers may read ahead of the consumer, and whether the run stopped.
struct Window {
    /// Inputs alive at once, at most.
    size: usize,
    /// How many results the consumer has taken; workers wait on it.
    consumed: Mutex<usize>,
    changed: Condvar,
    stopped: AtomicBool,
}

impl Window {
    fn new(size: usize) -> Window {
        Window {
            size: size.max(1),
            consumed: Mutex::new(0),
            changed: Condvar::new(),
            stopped: AtomicBool::new(false),
        }
    }

    /// The next input of `source` and its index, once it fits in the
    /// window; `None` when the inputs are done or the run stopped.
    fn next_input<I: Iterator>(&self, source: &Mutex<(I, usize)>) -> Option<(usize, I::Item)> {
        let mut source = source.lock().expect("pipeline lock poisoned");
        let index = source.1;
        {
            let mut consumed = self.consumed.lock().expect("pipeline lock poisoned");
            while index >= *consumed + self.size && !self.stopped.load(Ordering::SeqCst) {
                consumed = self.changed.wait(consumed).expect("pipeline lock poisoned");
            }
        }
        if self.stopped.load(Ordering::SeqCst) {
            return None;
        }
        let input = source.0.next()?;
        source.1 += 1;
        Some((index, input))
    }

    /// The consumer has taken `count` results.
    fn consumed(&self, count: usize) {
        *self.consumed.lock().expect("pipeline lock poisoned") = count;
        self.changed.notify_all();
    }

    /// Stops the run: workers waiting for room give up, none takes an input.
    fn stop(&self) {
        // Under the lock, so that a worker between its check and its wait
        // cannot miss the wake-up.
        let _consumed = self.consumed.lock().expect("pipeline lock poisoned");
        self.stopped.store(true, Ordering::SeqCst);
        self.changed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[test]
    fn results_arrive_in_order() {
        let mut seen = Vec::new();
        ordered_parallel_map::<_, _, (), _, _, _>(
            (0..100usize).map(Ok),
            4,
            3,
            |index| {
                std::thread::sleep(std::time::Duration::from_micros((100 - index as u64) * 20));
                Ok(index * 2)
            },
            |index, value| {
                assert_eq!(value, index * 2);
                assert_eq!(seen.len(), index);
                seen.push(index);
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(seen, (0..100).collect::<Vec<_>>());
    }

    #[test]
    fn window_bounds_results_alive() {
        let alive = AtomicUsize::new(0);
        let max_alive = AtomicUsize::new(0);
        ordered_parallel_map::<_, _, (), _, _, _>(
            (0..200usize).map(Ok),
            4,
            2,
            |_: usize| {
                let now = alive.fetch_add(1, Ordering::SeqCst) + 1;
                max_alive.fetch_max(now, Ordering::SeqCst);
                Ok(())
            },
            |_, ()| {
                alive.fetch_sub(1, Ordering::SeqCst);
                Ok(())
            },
        )
        .unwrap();
        assert!(max_alive.load(Ordering::SeqCst) <= 2);
    }

    #[test]
    fn first_error_stops_the_run() {
        let mut consumed = 0;
        let result = ordered_parallel_map(
            (0..1000usize).map(Ok),
            2,
            4,
            |index| {
                if index == 10 {
                    Err("task 10 failed")
                } else {
                    Ok(index)
                }
            },
            |_, _| {
                consumed += 1;
                Ok(())
            },
        );
        assert_eq!(result, Err("task 10 failed"));
        assert!(consumed <= 10);
    }
}

#[cfg(test)]
mod input_error_tests {
    use super::*;

    #[test]
    fn an_input_error_stops_the_run() {
        let inputs = (0..100usize).map(|index| {
            if index == 5 {
                Err("bad input 5")
            } else {
                Ok(index)
            }
        });
        let mut consumed = Vec::new();
        let result = ordered_parallel_map(inputs, 2, 3, Ok, |index, _| {
            consumed.push(index);
            Ok(())
        });
        assert_eq!(result, Err("bad input 5"));
        assert!(consumed.iter().all(|index| *index < 5));
    }
}
