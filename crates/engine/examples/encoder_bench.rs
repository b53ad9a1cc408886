//! Encoder throughput and load memory (see docs/benchmarks.md, `## embed`; driven by
//! scripts/bench-embed.sh).
//!
//! ```text
//! encoder_bench weights SHAPE DIR                 random weights in HF layout (SHAPE: dnabert-s, esm2-35m, esm2-650m, esm2-3b)
//! encoder_bench run MODEL DIR SEQS THREADS BUDGET [DEVICES [PRECISION]]
//!                                                 embed SEQS random sequences (MODEL: dnabert-s | esm2;
//!                                                 DEVICES as --devices, default cpu; PRECISION fp32|bf16|fp16)
//! encoder_bench load MODEL DIR                    load on the CPU, print the file size and peak RSS
//! encoder_bench ablate MODEL DIR SEQS BUDGET DEVICE PRECISION [ROUNDS [LENGTHS]]
//!                                                 the half-precision fast-path switches one by one
//! ```
//! `ablate` loads the model once on DEVICE (`cpu`, `0`, `cuda:0`; BUDGET 0: the default
//! budget), plans SEQS random sequences into batches as a run does, and runs every variant
//! of `VIRNUCPRO_FASTPATH` (`;`-separated `FastPath` texts such as `all;none;-pool;none,+gelu`;
//! default: all, none, each switch left out, each switch alone) over all of them, ROUNDS
//! times (default 2) in rotating order. Per variant it prints the best and mean tokens/s
//! and the largest difference of its embeddings from the first variant's (`none` first
//! when listed); a variant that fails (`packed` where the flash kernel is missing) prints
//! its error instead, the others go on, and the command exits non-zero. LENGTHS `fixed`
//! (default): every sequence the typical length, so batches hold no padding; `mixed`: 1 to
//! the typical length, uniformly, so batches are padded as a run's are at their edges
//! (what `packed` removes). The variable is read here only: the library takes a typed
//! `FastPath`.
//! Weights are random (the numbers are meaningless); the shapes are those of the real
//! models, so the work per token is the real work.
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::Instant;

use tch::{Device, Tensor};
use virnucpro_core::cancel::CancelToken;
use virnucpro_engine::devices::parse_devices;
use virnucpro_engine::dnabert::DnaBertS;
use virnucpro_engine::embed::batch::plan_batches;
use virnucpro_engine::embed::{
    default_budget, embed_files, setup_model, EmbedEvent, EmbedOptions, Encode, ModelKind,
    Precision, PrecisionExt,
};
use virnucpro_engine::esm2::{Alphabet, Esm2};
use virnucpro_engine::layers::FastPath;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let arg = |i: usize| {
        args.get(i)
            .cloned()
            .ok_or_else(|| format!("argument {i} missing (see the doc comment)"))
    };
    match arg(1)?.as_str() {
        "weights" => write_weights(&arg(2)?, Path::new(&arg(3)?)),
        "run" => run(
            arg(2)?.parse()?,
            Path::new(&arg(3)?),
            arg(4)?.parse()?,
            arg(5)?.parse()?,
            arg(6)?.parse()?,
            &arg(7).unwrap_or_else(|_| "cpu".into()),
            arg(8).unwrap_or_else(|_| "fp32".into()).parse()?,
        ),
        "load" => load(arg(2)?.parse()?, Path::new(&arg(3)?)),
        "ablate" => ablate(&Ablation {
            model: arg(2)?.parse()?,
            dir: arg(3)?.into(),
            seqs: arg(4)?.parse()?,
            budget: arg(5)?.parse()?,
            device: arg(6)?,
            precision: arg(7)?.parse()?,
            rounds: arg(8).map_or(Ok(2), |r| r.parse())?,
            mixed: match arg(9).as_deref() {
                Err(_) | Ok("fixed") => false,
                Ok("mixed") => true,
                Ok(other) => return Err(format!("LENGTHS is fixed or mixed, not {other}").into()),
            },
            variants: variants_from_env()?,
        }),
        other => Err(format!("unknown command {other}").into()),
    }
}

fn write_weights(shape: &str, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    // (layers, hidden, heads, intermediate) of the real models.
    let tensors = match shape {
        "dnabert-s" => {
            // The real DNABERT-S vocabulary; TOKENIZER_JSON points elsewhere on machines
            // without the fixtures beside the checkout (the lent GPU machine).
            let tokenizer = std::env::var_os("TOKENIZER_JSON")
                .map(std::path::PathBuf::from)
                .unwrap_or_else(|| {
                    Path::new(env!("CARGO_MANIFEST_DIR"))
                        .join("../../../shared/fixtures/models/dnabert_s_tiny/tokenizer.json")
                });
            std::fs::copy(tokenizer, dir.join("tokenizer.json"))?;
            write_dnabert_config(dir, 12, 768, 12, 3072)?;
            dnabert_tensors(12, 768, 3072)
        }
        "esm2-35m" => {
            write_esm_config(dir, 12, 480, 20, 1920)?;
            esm_tensors(12, 480, 20, 1920)
        }
        "esm2-650m" => {
            write_esm_config(dir, 33, 1280, 20, 5120)?;
            esm_tensors(33, 1280, 20, 5120)
        }
        // The model the pipeline uses (esm2_t36_3B_UR50D): 11.4 GB in fp32.
        "esm2-3b" => {
            write_esm_config(dir, 36, 2560, 40, 10240)?;
            esm_tensors(36, 2560, 40, 10240)
        }
        other => return Err(format!("unknown shape {other}").into()),
    };
    let bytes = write_safetensors(&dir.join("model.safetensors"), &tensors)?;
    println!(
        "{shape}: {} tensors, {:.1} MB in {}",
        tensors.len(),
        bytes as f64 / 1e6,
        dir.display()
    );
    Ok(())
}

/// How a random tensor is filled.
#[derive(Clone, Copy)]
enum Fill {
    Random,
    Ones,
    Zeros,
    /// ESM rotary frequencies for a head width, rounded to fp16 as in the real checkpoints.
    InvFreq(usize),
}

type Spec = (String, Vec<usize>, Fill);

fn dnabert_tensors(layers: usize, h: usize, inter: usize) -> Vec<Spec> {
    let mut t = vec![
        (
            "embeddings.word_embeddings.weight".into(),
            vec![4096, h],
            Fill::Random,
        ),
        (
            "embeddings.token_type_embeddings.weight".into(),
            vec![2, h],
            Fill::Random,
        ),
        ("embeddings.LayerNorm.weight".into(), vec![h], Fill::Ones),
        ("embeddings.LayerNorm.bias".into(), vec![h], Fill::Zeros),
        ("pooler.dense.weight".into(), vec![h, h], Fill::Random),
        ("pooler.dense.bias".into(), vec![h], Fill::Zeros),
    ];
    for l in 0..layers {
        let p = format!("encoder.layer.{l}");
        t.extend([
            (
                format!("{p}.attention.self.Wqkv.weight"),
                vec![3 * h, h],
                Fill::Random,
            ),
            (
                format!("{p}.attention.self.Wqkv.bias"),
                vec![3 * h],
                Fill::Zeros,
            ),
            (
                format!("{p}.attention.output.dense.weight"),
                vec![h, h],
                Fill::Random,
            ),
            (
                format!("{p}.attention.output.dense.bias"),
                vec![h],
                Fill::Zeros,
            ),
            (
                format!("{p}.attention.output.LayerNorm.weight"),
                vec![h],
                Fill::Ones,
            ),
            (
                format!("{p}.attention.output.LayerNorm.bias"),
                vec![h],
                Fill::Zeros,
            ),
            (
                format!("{p}.mlp.gated_layers.weight"),
                vec![2 * inter, h],
                Fill::Random,
            ),
            (format!("{p}.mlp.wo.weight"), vec![h, inter], Fill::Random),
            (format!("{p}.mlp.wo.bias"), vec![h], Fill::Zeros),
            (format!("{p}.mlp.layernorm.weight"), vec![h], Fill::Ones),
            (format!("{p}.mlp.layernorm.bias"), vec![h], Fill::Zeros),
        ]);
    }
    t
}

fn esm_tensors(layers: usize, h: usize, heads: usize, inter: usize) -> Vec<Spec> {
    let mut t = vec![
        (
            "esm.embeddings.word_embeddings.weight".into(),
            vec![33, h],
            Fill::Random,
        ),
        (
            "esm.encoder.emb_layer_norm_after.weight".into(),
            vec![h],
            Fill::Ones,
        ),
        (
            "esm.encoder.emb_layer_norm_after.bias".into(),
            vec![h],
            Fill::Zeros,
        ),
    ];
    let head = h / heads;
    for l in 0..layers {
        let p = format!("esm.encoder.layer.{l}");
        for proj in ["query", "key", "value"] {
            t.push((
                format!("{p}.attention.self.{proj}.weight"),
                vec![h, h],
                Fill::Random,
            ));
            t.push((
                format!("{p}.attention.self.{proj}.bias"),
                vec![h],
                Fill::Zeros,
            ));
        }
        t.extend([
            (
                format!("{p}.attention.self.rotary_embeddings.inv_freq"),
                vec![head / 2],
                Fill::InvFreq(head),
            ),
            (
                format!("{p}.attention.output.dense.weight"),
                vec![h, h],
                Fill::Random,
            ),
            (
                format!("{p}.attention.output.dense.bias"),
                vec![h],
                Fill::Zeros,
            ),
            (
                format!("{p}.attention.LayerNorm.weight"),
                vec![h],
                Fill::Ones,
            ),
            (
                format!("{p}.attention.LayerNorm.bias"),
                vec![h],
                Fill::Zeros,
            ),
            (
                format!("{p}.intermediate.dense.weight"),
                vec![inter, h],
                Fill::Random,
            ),
            (
                format!("{p}.intermediate.dense.bias"),
                vec![inter],
                Fill::Zeros,
            ),
            (
                format!("{p}.output.dense.weight"),
                vec![h, inter],
                Fill::Random,
            ),
            (format!("{p}.output.dense.bias"), vec![h], Fill::Zeros),
            (format!("{p}.LayerNorm.weight"), vec![h], Fill::Ones),
            (format!("{p}.LayerNorm.bias"), vec![h], Fill::Zeros),
        ]);
    }
    t
}

fn write_dnabert_config(
    dir: &Path,
    layers: usize,
    h: usize,
    heads: usize,
    inter: usize,
) -> Result<()> {
    let config = serde_json::json!({
        "architectures": ["BertModel"], "model_type": "bert", "hidden_size": h,
        "num_hidden_layers": layers, "num_attention_heads": heads, "intermediate_size": inter,
        "layer_norm_eps": 1e-12, "vocab_size": 4096, "alibi_starting_size": 512,
        "hidden_act": "gelu", "type_vocab_size": 2, "pad_token_id": 0,
    });
    std::fs::write(
        dir.join("config.json"),
        serde_json::to_string_pretty(&config)?,
    )?;
    Ok(())
}

fn write_esm_config(dir: &Path, layers: usize, h: usize, heads: usize, inter: usize) -> Result<()> {
    let config = serde_json::json!({
        "architectures": ["EsmForMaskedLM"], "model_type": "esm", "hidden_size": h,
        "num_hidden_layers": layers, "num_attention_heads": heads, "intermediate_size": inter,
        "layer_norm_eps": 1e-5, "vocab_size": 33, "pad_token_id": 1, "mask_token_id": 32,
        "position_embedding_type": "rotary", "token_dropout": true,
        "emb_layer_norm_before": false, "hidden_act": "gelu", "max_position_embeddings": 1026,
    });
    std::fs::write(
        dir.join("config.json"),
        serde_json::to_string_pretty(&config)?,
    )?;
    Ok(())
}

fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

/// A safetensors file written tensor by tensor, so even multi-GB files need little memory.
fn write_safetensors(path: &Path, tensors: &[Spec]) -> Result<u64> {
    let mut header = serde_json::Map::new();
    let mut offset = 0usize;
    for (name, shape, _) in tensors {
        let len = shape.iter().product::<usize>() * 4;
        header.insert(
            name.clone(),
            serde_json::json!({"dtype": "F32", "shape": shape, "data_offsets": [offset, offset + len]}),
        );
        offset += len;
    }
    let mut json = serde_json::to_string(&header)?;
    while json.len() % 8 != 0 {
        json.push(' ');
    }
    let mut out = BufWriter::new(File::create(path)?);
    out.write_all(&(json.len() as u64).to_le_bytes())?;
    out.write_all(json.as_bytes())?;
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    for (_, shape, fill) in tensors {
        let n: usize = shape.iter().product();
        for i in 0..n {
            let v = match fill {
                Fill::Ones => 1.0f32,
                Fill::Zeros => 0.0,
                Fill::InvFreq(dim) => {
                    let exact = 1.0 / 10000f64.powf((2 * i) as f64 / *dim as f64);
                    half::f16::from_f64(exact).to_f32()
                }
                Fill::Random => {
                    ((xorshift(&mut state) >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 0.1
                }
            };
            out.write_all(&v.to_le_bytes())?;
        }
    }
    out.flush()?;
    Ok(8 + json.len() as u64 + offset as u64)
}

/// `n` random sequences of the typical input: 500 bp chunks, and their ~166-residue
/// translations.
fn random_sequences(model: ModelKind, n: usize) -> Vec<String> {
    random_sequences_of(model, n, false)
}

/// [`random_sequences`], or with `mixed` lengths drawn uniformly from 1 to the typical one.
fn random_sequences_of(model: ModelKind, n: usize, mixed: bool) -> Vec<String> {
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let (alphabet, typical): (&[u8], usize) = match model {
        ModelKind::DnabertS => (b"ACGT", 500),
        ModelKind::Esm2 => (b"LAGVSERTIDPNQKFYMHWC", 166),
    };
    (0..n)
        .map(|_| {
            let len = match mixed {
                true => 1 + (xorshift(&mut state) >> 33) as usize % typical,
                false => typical,
            };
            (0..len)
                .map(|_| alphabet[(xorshift(&mut state) >> 33) as usize % alphabet.len()] as char)
                .collect()
        })
        .collect()
}

fn random_fasta(path: &Path, model: ModelKind, n: usize) -> Result<()> {
    let mut out = BufWriter::new(File::create(path)?);
    for (i, seq) in random_sequences(model, n).iter().enumerate() {
        writeln!(out, ">s{i}")?;
        writeln!(out, "{seq}")?;
    }
    out.flush()?;
    Ok(())
}

fn run(
    model: ModelKind,
    dir: &Path,
    seqs: usize,
    threads: i32,
    budget: usize,
    devices: &str,
    precision: Precision,
) -> Result<()> {
    tch::set_num_threads(threads);
    let device_ids = parse_devices(devices)?;
    // 0: the budget a run would choose for these devices (from free GPU memory).
    let budget = match budget {
        0 => default_budget(&device_ids),
        n => n,
    };
    let devices: Vec<Device> = device_ids.iter().map(|&d| Device::from(d)).collect();
    let tmp = tempfile::tempdir()?;
    let input = tmp.path().join("seqs.fa");
    random_fasta(&input, model, seqs)?;
    let setup = setup_model(model, dir, precision)?;
    let job = setup.job(vec![input], tmp.path().join("out"));
    let options = EmbedOptions {
        devices: device_ids.clone(),
        batch_tokens: budget,
        force: true,
    };
    let started = Instant::now();
    let mut load_seconds = 0.0;
    let report = embed_files(&job, &options, &CancelToken::new(), &mut |e| {
        if let EmbedEvent::WorkerReady {
            load_seconds: s, ..
        } = e
        {
            load_seconds = *s;
        }
    })?;
    let wall = started.elapsed().as_secs_f64();
    if let Some(failed) = report.failed().next() {
        return Err(format!("{failed:?}").into());
    }
    let stats = &report.devices[0];
    println!(
        "{} devices={devices:?} precision={} threads={threads} budget={budget} seqs={} tokens={} forward_s={:.2} tokens_per_s={:.0} seqs_per_s={:.1} wall_s={wall:.2} load_s={load_seconds:.2}",
        model.as_str(),
        precision.as_str(),
        stats.sequences,
        stats.tokens,
        stats.seconds,
        stats.tokens as f64 / stats.seconds,
        stats.sequences as f64 / stats.seconds,
    );
    Ok(())
}

fn load(model: ModelKind, dir: &Path) -> Result<()> {
    let setup = setup_model(model, dir, Precision::Fp32)?;
    let started = Instant::now();
    let encoder = setup.factory.load(Device::Cpu)?;
    let seconds = started.elapsed().as_secs_f64();
    let file_bytes = std::fs::metadata(dir.join("model.safetensors"))?.len();
    let status = std::fs::read_to_string("/proc/self/status")?;
    let peak_kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0);
    let peak = peak_kb as f64 * 1024.0;
    println!(
        "{} dim={} file_mb={:.1} peak_rss_mb={:.1} peak_over_file={:.2} load_s={seconds:.2}",
        model.as_str(),
        encoder.dim(),
        file_bytes as f64 / 1e6,
        peak / 1e6,
        peak / file_bytes as f64
    );
    Ok(())
}

/// The arguments of `ablate`.
struct Ablation {
    model: ModelKind,
    dir: std::path::PathBuf,
    seqs: usize,
    budget: usize,
    device: String,
    precision: Precision,
    rounds: usize,
    /// Sequence lengths from 1 to the typical one instead of all typical.
    mixed: bool,
    variants: Vec<(String, FastPath)>,
}

/// `VIRNUCPRO_FASTPATH` as `;`-separated variants; by default the exact path, all switches,
/// each switch left out and each switch alone.
fn variants_from_env() -> Result<Vec<(String, FastPath)>> {
    let texts: Vec<String> = match std::env::var("VIRNUCPRO_FASTPATH") {
        Ok(list) => list.split(';').map(|t| t.trim().to_string()).collect(),
        Err(_) => {
            let mut all = vec!["none".to_string(), "all".to_string()];
            for name in FastPath::NAMES {
                all.push(format!("-{name}"));
                all.push(format!("none,+{name}"));
            }
            all
        }
    };
    let mut variants = Vec::with_capacity(texts.len());
    for text in texts.into_iter().filter(|t| !t.is_empty()) {
        let fast: FastPath = text.parse()?;
        variants.push((text, fast));
    }
    if variants.is_empty() {
        return Err("VIRNUCPRO_FASTPATH lists no variant".into());
    }
    Ok(variants)
}

/// A model loaded for `ablate`, whose switches change between passes.
enum Loaded {
    Esm2(Esm2),
    Dnabert(Box<DnaBertS>),
}

impl Loaded {
    fn set_fast_path(&mut self, fast: FastPath) {
        match self {
            Self::Esm2(m) => m.set_fast_path(fast),
            Self::Dnabert(m) => m.set_fast_path(fast),
        }
    }

    fn encoder(&self) -> &dyn Encode {
        match self {
            Self::Esm2(m) => m,
            Self::Dnabert(m) => m.as_ref(),
        }
    }

    fn tokenize(&self, sequence: &str) -> Result<Vec<i64>> {
        Ok(match self {
            Self::Esm2(_) => Alphabet::new().encode(sequence)?,
            Self::Dnabert(m) => m.tokenizer().encode(sequence)?,
        })
    }

    fn pad_id(&self) -> i64 {
        match self {
            Self::Esm2(_) => Alphabet::PAD,
            Self::Dnabert(m) => m.tokenizer().pad_id(),
        }
    }
}

/// One batch as the worker builds it: right-padded ids (uploaded per pass, as a run
/// does) and the token count of each row.
struct Planned {
    ids: Tensor,
    lengths: Vec<i64>,
    indices: Vec<usize>,
}

fn ablate(a: &Ablation) -> Result<()> {
    let device_ids = parse_devices(&a.device)?;
    let device = device_ids
        .first()
        .map(|&d| Device::from(d))
        .ok_or("no device")?;
    let budget = match a.budget {
        0 => default_budget(&device_ids),
        n => n,
    };
    let kind = a.precision.kind();
    let started = Instant::now();
    let mut model = match a.model {
        ModelKind::Esm2 => Loaded::Esm2(Esm2::load(&a.dir, kind, device)?),
        ModelKind::DnabertS => Loaded::Dnabert(Box::new(DnaBertS::load(&a.dir, kind, device)?)),
    };
    let load_s = started.elapsed().as_secs_f64();
    let batches = plan(&model, a.model, a.seqs, budget, a.mixed)?;
    let tokens: i64 = batches.iter().flat_map(|b| &b.lengths).sum();
    let padded: usize = batches.iter().map(|b| b.ids.numel()).sum();
    println!(
        "ablate {} device={device:?} precision={} seqs={} lengths={} batches={} tokens={tokens} padded_tokens={padded} budget={budget} rounds={} load_s={load_s:.2}",
        a.model.as_str(),
        a.precision.as_str(),
        a.seqs,
        if a.mixed { "mixed" } else { "fixed" },
        batches.len(),
        a.rounds
    );
    // Untimed: the first forward pays for kernel selection and the allocator's growth.
    if let Some(first) = batches.first() {
        model.set_fast_path(FastPath::EXACT);
        let _ = model
            .encoder()
            .embed(&first.ids.to(device), &first.lengths)?;
    }
    let n = a.variants.len();
    let mut runs: Vec<Runs> = (0..n).map(|_| Runs::default()).collect();
    for round in 0..a.rounds {
        for step in 0..n {
            let v = (step + round) % n;
            if runs[v].error.is_some() {
                continue;
            }
            model.set_fast_path(a.variants[v].1);
            match pass(&model, &batches, device, a.seqs) {
                Ok((s, rows)) => {
                    runs[v].seconds.push(s);
                    runs[v].output.get_or_insert(rows);
                }
                // One variant's failure (a kernel this libtorch lacks) spoils no other.
                Err(e) => runs[v].error = Some(e.to_string()),
            }
        }
    }
    report(&a.variants, &runs, tokens)?;
    match runs.iter().filter(|r| r.error.is_some()).count() {
        0 => Ok(()),
        failed => Err(format!("{failed} variant(s) failed (error= lines above)").into()),
    }
}

/// What the passes of one variant gave: their seconds, the first pass's embeddings, or the
/// error that stopped it.
#[derive(Default)]
struct Runs {
    seconds: Vec<f64>,
    output: Option<Tensor>,
    error: Option<String>,
}

/// Tokenize and plan the batches of a run (longest first within the budget).
fn plan(
    model: &Loaded,
    kind: ModelKind,
    seqs: usize,
    budget: usize,
    mixed: bool,
) -> Result<Vec<Planned>> {
    let rows = random_sequences_of(kind, seqs, mixed)
        .iter()
        .map(|s| model.tokenize(s))
        .collect::<Result<Vec<_>>>()?;
    let lengths: Vec<usize> = rows.iter().map(Vec::len).collect();
    let pad = model.pad_id();
    let mut out = Vec::new();
    for batch in plan_batches(&lengths, budget) {
        let mut flat = Vec::with_capacity(batch.padded_tokens());
        for &i in &batch.indices {
            flat.extend_from_slice(&rows[i]);
            flat.resize(flat.len() + batch.width - rows[i].len(), pad);
        }
        let shape = [batch.indices.len() as i64, batch.width as i64];
        out.push(Planned {
            ids: Tensor::from_slice(&flat).view(shape),
            lengths: batch.indices.iter().map(|&i| lengths[i] as i64).collect(),
            indices: batch.indices,
        });
    }
    Ok(out)
}

/// One pass over every batch: seconds, and the embeddings `[seqs, dim]` in input order.
/// Each batch is uploaded and its rows come back to the host, as in a run, so the time
/// includes every synchronisation a run has.
fn pass(model: &Loaded, batches: &[Planned], device: Device, seqs: usize) -> Result<(f64, Tensor)> {
    let encoder = model.encoder();
    let started = Instant::now();
    let mut rows: Vec<Option<Tensor>> = (0..seqs).map(|_| None).collect();
    for batch in batches {
        let out = encoder.embed(&batch.ids.to(device), &batch.lengths)?;
        for (r, &i) in batch.indices.iter().enumerate() {
            rows[i] = Some(out.get(r as i64));
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let rows: Vec<Tensor> = rows.into_iter().flatten().collect();
    Ok((seconds, Tensor::stack(&rows, 0)))
}

fn report(variants: &[(String, FastPath)], runs: &[Runs], tokens: i64) -> Result<()> {
    // Differences are taken from the exact path when it ran, else from the first variant.
    let base = variants
        .iter()
        .position(|(_, f)| *f == FastPath::EXACT)
        .unwrap_or(0);
    let reference = runs
        .get(base)
        .and_then(|r| r.output.as_ref())
        .ok_or("no pass of the reference variant ran")?;
    for (v, (text, fast)) in variants.iter().enumerate() {
        if let Some(error) = &runs[v].error {
            println!("variant={text} switches={fast} error={error}");
            continue;
        }
        let seconds = &runs[v].seconds;
        let best = seconds.iter().copied().fold(f64::INFINITY, f64::min);
        let mean = seconds.iter().sum::<f64>() / seconds.len().max(1) as f64;
        let diff = match &runs[v].output {
            Some(rows) => (rows - reference).abs().max().double_value(&[]),
            None => f64::NAN,
        };
        println!(
            "variant={text} switches={fast} best_s={best:.3} mean_s={mean:.3} tokens_per_s_best={:.0} tokens_per_s_mean={:.0} max_abs_diff_vs_{}={diff:.3e}",
            tokens as f64 / best,
            tokens as f64 / mean,
            variants[base].0,
        );
    }
    Ok(())
}
