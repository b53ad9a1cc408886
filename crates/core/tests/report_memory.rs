//! Reports whose memory stays flat as inputs grow (issue 16, item 6): the per-chunk maxima
//! spill sorted runs beyond a group limit and the per-read tally spills finished reads, yet
//! every output is byte-identical to what the former in-memory writers gave (kept here as
//! the reference), on random inputs with tiny limits, with frames in order or not; and
//! the memory allocated while writing does not grow with the reads.
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::collections::{BTreeMap, HashMap};
use std::fs;

use virnucpro_core::report::{
    modified_id, numpy_f32, read_of_chunk, PredictionRow, ReadTally, ReadTotals, ReportWriter,
    HIGHESTSCORE_FILE, HIGHESTSCORE_HEADER, READ_SUMMARY_FILE, READ_SUMMARY_HEADER, RESULTS_FILE,
};
use virnucpro_testkit::fixture;

// ---- The former in-memory writers, as they were: the reference outputs. ----

/// pandas' NaN-skipping maximum, as the report module has it.
fn nan_max(a: f32, b: f32) -> f32 {
    if a.is_nan() || b > a {
        b
    } else {
        a
    }
}

fn reference_highestscore(rows: &[PredictionRow]) -> String {
    let mut groups: BTreeMap<String, (f32, f32)> = BTreeMap::new();
    for row in rows {
        let key = modified_id(&row.id);
        match groups.get_mut(key) {
            Some((max1, max2)) => {
                *max1 = nan_max(*max1, row.p_others);
                *max2 = nan_max(*max2, row.p_virus);
            }
            None => {
                groups.insert(key.to_owned(), (row.p_others, row.p_virus));
            }
        }
    }
    let mut out = HIGHESTSCORE_HEADER.to_owned();
    for (id, (max1, max2)) in groups {
        out.push_str(&id);
        out.push_str(if max2 >= max1 {
            "\tTrue\n"
        } else {
            "\tFalse\n"
        });
    }
    out
}

#[derive(Default)]
struct RefScores {
    frames: u64,
    best_virus: f32,
    chunks: Vec<(String, f32, f32)>,
}

fn reference_read_summary(rows: &[PredictionRow], chunked: &str) -> (String, ReadTotals) {
    let mut reads: HashMap<String, RefScores> = HashMap::new();
    for row in rows {
        let chunk = modified_id(&row.id);
        let scores = reads.entry(read_of_chunk(chunk).to_owned()).or_default();
        if scores.frames == 0 || row.p_virus > scores.best_virus {
            scores.best_virus = row.p_virus;
        }
        scores.frames += 1;
        match scores.chunks.iter_mut().rev().find(|c| c.0 == chunk) {
            Some(c) => {
                c.1 = nan_max(c.1, row.p_others);
                c.2 = nan_max(c.2, row.p_virus);
            }
            None => scores
                .chunks
                .push((chunk.to_owned(), row.p_others, row.p_virus)),
        }
    }
    let mut groups: Vec<(String, u64)> = Vec::new();
    for id in chunked.lines().filter_map(|l| l.strip_prefix('>')) {
        let read = read_of_chunk(id.split_whitespace().next().unwrap_or(""));
        match groups.last_mut() {
            Some((name, chunks)) if name == read => *chunks += 1,
            _ => groups.push((read.to_owned(), 1)),
        }
    }
    let mut out = READ_SUMMARY_HEADER.to_owned();
    let mut totals = ReadTotals::default();
    for (read, chunks) in groups {
        let s = reads.remove(&read).unwrap_or_default();
        let virus_chunks = s.chunks.iter().filter(|c| c.2 >= c.1).count() as u64;
        let call = match (s.frames, virus_chunks) {
            (0, _) => "none",
            (_, 0) => "others",
            _ => "virus",
        };
        totals.reads += 1;
        totals.chunks += chunks;
        totals.frames += s.frames;
        totals.virus_chunks += virus_chunks;
        totals.virus_reads += u64::from(virus_chunks > 0);
        totals.unscored_reads += u64::from(s.frames == 0);
        out.push_str(&format!("{read}\t{chunks}\t{}\t{virus_chunks}\t", s.frames));
        if s.frames > 0 {
            numpy_f32::write(&mut out, s.best_virus);
        }
        out.push_str(&format!("\t{call}\n"));
    }
    (out, totals)
}

// ---- Random inputs from a fixed seed. ----

struct Rng(u64);

impl Rng {
    /// splitmix64.
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// Scores with ties, signed zeros, NaNs of either sign, and arbitrary probabilities.
    fn score(&mut self) -> f32 {
        const POOL: [f32; 8] = [0.0, -0.0, 0.5, 0.25, 0.75, 1.0, f32::NAN, -f32::NAN];
        match self.below(3) {
            0 => (self.next() >> 40) as f32 / (1u64 << 24) as f32,
            _ => POOL[self.below(POOL.len())],
        }
    }

    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i + 1));
        }
    }
}

/// Read names: non-ASCII, one with `_chunk_` inside, byte order unlike numeric order.
const PREFIXES: [&str; 6] = ["read_", "é", "🦠_", "r_chunk_x", "Zz", "a"];

/// Read `read`'s chunks in a chunked reads file and its scored frames: one to four chunks,
/// each with any of its six frames (so some chunks and reads have none).
fn one_read(rng: &mut Rng, read: &str) -> (String, Vec<PredictionRow>) {
    let mut chunked = String::new();
    let mut rows = Vec::new();
    for j in 1..=1 + rng.below(4) {
        chunked.push_str(&format!(">{read}_chunk_{j}\nACGT\n"));
        for frame in ["F1", "F2", "F3", "R1", "R2", "R3"] {
            if rng.below(2) == 0 {
                rows.push(PredictionRow {
                    id: format!("{read}_chunk_{j}{frame}"),
                    p_others: rng.score(),
                    p_virus: rng.score(),
                });
            }
        }
    }
    (chunked, rows)
}

/// A chunked reads file of `reads` reads and their scored frames, in input order.
fn sample(rng: &mut Rng, reads: usize) -> (String, Vec<PredictionRow>) {
    let mut chunked = String::new();
    let mut rows = Vec::new();
    for i in 0..reads {
        let read = format!("{}{i}", PREFIXES[rng.below(PREFIXES.len())]);
        let (text, frames) = one_read(rng, &read);
        chunked.push_str(&text);
        rows.extend(frames);
    }
    (chunked, rows)
}

/// The three files written from `rows` with at most `group_limit` chunk groups in memory,
/// and the summary's totals; nothing but them is left in the folder.
fn written(
    rows: &[PredictionRow],
    chunked: &str,
    group_limit: Option<usize>,
) -> ([String; 3], ReadTotals) {
    let dir = tempfile::tempdir().unwrap();
    let chunked_path = dir.path().join("reads_chunked500.fa");
    fs::write(&chunked_path, chunked).unwrap();
    let out = dir.path().join("reports");
    fs::create_dir(&out).unwrap();
    let mut writer = match group_limit {
        Some(limit) => ReportWriter::with_group_limit(&out, limit),
        None => ReportWriter::create(&out),
    }
    .unwrap();
    let mut tally = ReadTally::new(&out);
    for row in rows {
        writer.push(row).unwrap();
        tally.add(row).unwrap();
    }
    // Spills have no name: only the results file being written is in the folder.
    assert_eq!(fs::read_dir(&out).unwrap().count(), 1);
    let summary = writer.finish().unwrap();
    let totals = tally
        .write(&chunked_path, &out.join(READ_SUMMARY_FILE))
        .unwrap();
    let mut names: Vec<_> = fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, [RESULTS_FILE, HIGHESTSCORE_FILE, READ_SUMMARY_FILE]);
    let files = [RESULTS_FILE, HIGHESTSCORE_FILE, READ_SUMMARY_FILE]
        .map(|name| fs::read_to_string(out.join(name)).unwrap());
    assert_eq!(summary.groups + 1, files[1].lines().count() as u64);
    (files, totals)
}

/// Both reports and the read summary: as the reference has them, and as the in-memory
/// writer (the default limit, never reached here) writes them, for every limit.
fn check_identical(rows: &[PredictionRow], chunked: &str, what: &str) {
    let (in_memory, totals) = written(rows, chunked, None);
    let (summary, ref_totals) = reference_read_summary(rows, chunked);
    assert_eq!(in_memory[1], reference_highestscore(rows), "{what}");
    assert_eq!(in_memory[2], summary, "{what}");
    assert_eq!(totals, ref_totals, "{what}");
    for limit in [1, 2, 3, 17] {
        let (spilled, spilled_totals) = written(rows, chunked, Some(limit));
        assert_eq!(spilled, in_memory, "{what}, {limit} groups in memory");
        assert_eq!(spilled_totals, totals, "{what}, {limit} groups in memory");
    }
}

#[test]
fn spilled_reports_are_byte_identical_in_input_order() {
    for seed in 0..8 {
        let mut rng = Rng(seed);
        let reads = 1 + rng.below(120);
        let (chunked, rows) = sample(&mut rng, reads);
        check_identical(&rows, &chunked, &format!("seed {seed}"));
    }
}

#[test]
fn spilled_reports_are_byte_identical_with_frames_out_of_order() {
    for seed in 100..108 {
        let mut rng = Rng(seed);
        let reads = 1 + rng.below(120);
        let (chunked, mut rows) = sample(&mut rng, reads);
        // Shards out of order, as `classify` given merged files in another order: reads
        // cut at a shard's edge come back after others.
        let mut shards: Vec<Vec<PredictionRow>> = rows.chunks(7).map(<[_]>::to_vec).collect();
        rng.shuffle(&mut shards);
        let by_shard: Vec<PredictionRow> = shards.concat();
        check_identical(
            &by_shard,
            &chunked,
            &format!("seed {seed}, shards shuffled"),
        );
        // Every frame anywhere: a chunk's frames split across many runs.
        rng.shuffle(&mut rows);
        check_identical(&rows, &chunked, &format!("seed {seed}, frames shuffled"));
    }
}

#[test]
fn a_read_seen_again_after_another_is_summarised_whole() {
    let chunked = ">a_chunk_1\nA\n>a_chunk_2\nA\n>b_chunk_1\nA\n>none_chunk_1\nA\n>c_chunk_1\nA\n";
    let row = |id: &str, p_others, p_virus| PredictionRow {
        id: id.into(),
        p_others,
        p_virus,
    };
    let rows = [
        // a's first chunk leans others, then b, then a again: its second chunk is virus
        // and its first chunk's max score2 rises to a tie (virus) only with the late frame.
        row("a_chunk_1F1", 0.7, 0.3),
        row("b_chunk_1F1", 0.6, 0.4),
        row("a_chunk_2R1", 0.1, 0.9),
        row("a_chunk_1R3", 0.2, 0.7),
        // A read missing from the chunked file is left out, as it always was.
        row("ghost_chunk_1F2", 0.5, 0.5),
        // A first score2 of NaN stays the read's best; c comes last, after a gap.
        row("c_chunk_1F1", 0.9, f32::NAN),
        row("c_chunk_1F2", 0.9, 0.2),
    ];
    let (files, totals) = written(&rows, chunked, Some(1));
    assert_eq!(
        files[2],
        format!(
            "{READ_SUMMARY_HEADER}a\t2\t3\t2\t0.9\tvirus\nb\t1\t1\t0\t0.4\tothers\n\
             none\t1\t0\t0\t\tnone\nc\t1\t2\t0\tnan\tothers\n"
        )
    );
    assert_eq!(totals.frames, 6);
    check_identical(&rows, chunked, "a, b, a");
}

#[test]
fn fixture_reports_are_rewritten_byte_for_byte_with_spills() {
    for dir in [
        "e2e/a500/expected/input_merged",
        "e2e/a300/expected/input_merged",
    ] {
        let dir = fixture(dir);
        let text = fs::read_to_string(dir.join(RESULTS_FILE)).unwrap();
        let rows: Vec<PredictionRow> = text
            .lines()
            .skip(1)
            .map(|line| {
                let f: Vec<&str> = line.split('\t').collect();
                PredictionRow {
                    id: f[0].into(),
                    p_others: f[2].parse().unwrap(),
                    p_virus: f[3].parse().unwrap(),
                }
            })
            .collect();
        for limit in [1, 5] {
            let out = tempfile::tempdir().unwrap();
            let mut writer = ReportWriter::with_group_limit(out.path(), limit).unwrap();
            for row in &rows {
                writer.push(row).unwrap();
            }
            writer.finish().unwrap();
            for name in [RESULTS_FILE, HIGHESTSCORE_FILE] {
                assert_eq!(
                    fs::read(out.path().join(name)).unwrap(),
                    fs::read(dir.join(name)).unwrap(),
                    "{}: {name}, {limit} groups in memory",
                    dir.display()
                );
            }
        }
    }
}

// ---- Memory: the bytes allocated while writing do not grow with the reads. ----

/// Counts the bytes this thread holds while counting is on (other tests run on other
/// threads).
struct Counting;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static HELD: Cell<i64> = const { Cell::new(0) };
    static PEAK: Cell<i64> = const { Cell::new(0) };
}

fn count(delta: i64) {
    if COUNTING.with(Cell::get) {
        let held = HELD.with(|h| {
            h.set(h.get() + delta);
            h.get()
        });
        PEAK.with(|p| p.set(p.get().max(held)));
    }
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size() as i64);
        System.alloc(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count(-(layout.size() as i64));
        System.dealloc(ptr, layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size as i64 - layout.size() as i64);
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The most bytes held at once while `reads` reads (made on the fly, one at a time) go
/// through both report writers and the read summary, at most `group_limit` chunk groups
/// in memory.
fn peak_bytes(reads: usize, group_limit: usize) -> i64 {
    let dir = tempfile::tempdir().unwrap();
    let chunked_path = dir.path().join("reads_chunked500.fa");
    // Names of one length whatever the count, so that only the count differs.
    let name = |i: usize| format!("r{i:09}");
    let mut chunked = std::io::BufWriter::new(fs::File::create(&chunked_path).unwrap());
    let mut rng = Rng(42);
    for i in 0..reads {
        let (text, _) = one_read(&mut rng, &name(i));
        std::io::Write::write_all(&mut chunked, text.as_bytes()).unwrap();
    }
    drop(chunked);
    let mut rng = Rng(42);
    HELD.with(|h| h.set(0));
    PEAK.with(|p| p.set(0));
    COUNTING.with(|c| c.set(true));
    let mut writer = ReportWriter::with_group_limit(dir.path(), group_limit).unwrap();
    let mut tally = ReadTally::new(dir.path());
    for i in 0..reads {
        for row in one_read(&mut rng, &name(i)).1 {
            writer.push(&row).unwrap();
            tally.add(&row).unwrap();
        }
    }
    writer.finish().unwrap();
    let totals = tally
        .write(&chunked_path, &dir.path().join(READ_SUMMARY_FILE))
        .unwrap();
    COUNTING.with(|c| c.set(false));
    assert_eq!(totals.reads, reads as u64);
    PEAK.with(Cell::get)
}

#[test]
fn memory_does_not_grow_with_the_reads() {
    // 100 groups a run: both sizes spill hundreds of runs, more than are kept before
    // they are merged, so both hold as many at most.
    let small = peak_bytes(20_000, 100);
    let large = peak_bytes(200_000, 100);
    eprintln!("peak while writing: {small} bytes for 20 000 reads, {large} for 200 000");
    // The former writers held every chunk and read: some 100 bytes each, 25 MB here.
    assert!(
        large <= small + (64 << 10),
        "peak grows with the reads: {small} -> {large} bytes"
    );
}
