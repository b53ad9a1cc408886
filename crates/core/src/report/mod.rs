//! The original tool's two report files, byte for byte: `prediction_results.txt` (one row
//! per scored frame) and `prediction_results_highestscore.csv` (one verdict per read chunk).
//! See docs/formats.md, "Reports".
mod consensus;
mod error;
pub mod numpy_f32;
mod read_summary;
mod reads;
mod results_reader;
mod samples;
mod spill;
mod writer;

pub use consensus::{modified_id, Consensus, Verdicts, GROUP_LIMIT};
pub use error::{ReadSummaryError, ReportError};
pub use read_summary::{for_each_read_summary_row, read_read_summary, ReadCall, ReadSummaryRow};
pub use reads::{read_of_chunk, ReadTally, ReadTotals, READ_SUMMARY_FILE, READ_SUMMARY_HEADER};
pub use results_reader::{for_each_result_row, read_results_where, ResultRow};
pub use samples::{
    read_samples, read_summary_totals, render_samples, SampleTotals, SAMPLES_HEADER,
};
pub use spill::SpillError;
pub use writer::{
    write_highestscore, write_reports, ReportSummary, ReportWriter, HIGHESTSCORE_FILE,
    HIGHESTSCORE_HEADER, RESULTS_FILE, RESULTS_HEADER,
};

/// One scored frame: its sequence ID (`<chunk id><strand><frame>`, e.g. `read_1_chunk_1F2`)
/// and the classifier's softmax probabilities.
#[derive(Debug, Clone, PartialEq)]
pub struct PredictionRow {
    pub id: String,
    /// P(others), class 0: `score1`.
    pub p_others: f32,
    /// P(virus), class 1: `score2`.
    pub p_virus: f32,
}

/// The `Prediction` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Label {
    Others,
    Virus,
}

impl Label {
    /// The argmax of the two probabilities, ties going to class 0 (`others`), as
    /// `torch.argmax` does; a NaN score also gives `others`.
    pub fn from_probabilities(p_others: f32, p_virus: f32) -> Self {
        if p_virus > p_others {
            Label::Virus
        } else {
            Label::Others
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Label::Others => "others",
            Label::Virus => "virus",
        }
    }
}

impl PredictionRow {
    /// See [`Label::from_probabilities`].
    pub fn label(&self) -> Label {
        Label::from_probabilities(self.p_others, self.p_virus)
    }
}
