//! An ordered, bounded parallel map: tasks run on a rayon pool, results are
//! consumed in task order on the calling thread, and at most `window` results
//! are alive at once. Both the generator and the exporter are built on it.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};

/// Runs `work(i)` for `i in 0..tasks` on `threads` workers and feeds every
/// result to `consume` in ascending `i`.
///
/// A worker takes task `i` only once `i < consumed + window`, so the memory in
/// use is bounded by `window` results whatever the relative speed of the work
/// and the consumer. The first error (from either side) stops the run and is
/// returned; tasks already running finish, no new task starts.
pub fn ordered_parallel_map<T, E, W, C>(
    tasks: usize,
    threads: usize,
    window: usize,
    work: W,
    mut consume: C,
) -> Result<(), E>
where
    T: Send,
    E: Send,
    W: Fn(usize) -> Result<T, E> + Sync,
    C: FnMut(usize, T) -> Result<(), E>,
{
    let threads = threads.max(1);
    let window = window.max(1);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|index| format!("predbench-worker-{index}"))
        .build()
        .expect("cannot start the worker threads");

    let next_task = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    // How many results the consumer has taken; workers wait on it.
    let consumed = (Mutex::new(0usize), Condvar::new());
    let (sender, receiver) = crossbeam_channel::unbounded::<(usize, Result<T, E>)>();

    let mut outcome: Result<(), E> = Ok(());
    pool.in_place_scope(|scope| {
        for _ in 0..threads.min(tasks) {
            let sender = sender.clone();
            let (next_task, stop, consumed, work) = (&next_task, &stop, &consumed, &work);
            scope.spawn(move |_| {
                loop {
                    let index = next_task.fetch_add(1, Ordering::SeqCst);
                    if index >= tasks {
                        return;
                    }
                    {
                        let (count, changed) = consumed;
                        let mut count = count.lock().expect("pipeline lock poisoned");
                        while index >= *count + window && !stop.load(Ordering::SeqCst) {
                            count = changed.wait(count).expect("pipeline lock poisoned");
                        }
                    }
                    if stop.load(Ordering::SeqCst) {
                        return;
                    }
                    let result = work(index);
                    if sender.send((index, result)).is_err() {
                        return;
                    }
                }
            });
        }
        drop(sender);

        let mut pending: BTreeMap<usize, T> = BTreeMap::new();
        let mut next_to_consume = 0usize;
        'receive: for (index, result) in receiver.iter() {
            match result {
                Ok(value) => {
                    pending.insert(index, value);
                }
                Err(error) => {
                    outcome = Err(error);
                    break 'receive;
                }
            }
            while let Some(value) = pending.remove(&next_to_consume) {
                if let Err(error) = consume(next_to_consume, value) {
                    outcome = Err(error);
                    break 'receive;
                }
                next_to_consume += 1;
                let (count, changed) = &consumed;
                *count.lock().expect("pipeline lock poisoned") = next_to_consume;
                changed.notify_all();
            }
        }
        stop.store(true, Ordering::SeqCst);
        consumed.1.notify_all();
        // Drain so that no worker blocks on a full channel (it is unbounded,
        // but dropping results here frees their memory early).
        drop(receiver);
    });
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_arrive_in_order() {
        let mut seen = Vec::new();
        ordered_parallel_map::<_, (), _, _>(
            100,
            4,
            3,
            |index| {
                std::thread::sleep(std::time::Duration::from_micros((100 - index as u64) * 20));
                Ok(index * 2)
            },
            |index, value| {
                assert_eq!(value, index * 2);
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
        ordered_parallel_map::<_, (), _, _>(
            200,
            4,
            2,
            |_| {
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
            1000,
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
