//! Report language and every fixed (non-data) string the charts and pages print.
//!
//! All bilingual text lives here, in one `match`, so a translation is reviewed in one place.
//! Data text (unit names, factor names, the source line) comes from the caller.

use std::fmt;
use std::str::FromStr;

/// Language of a report: every fixed string exists in both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    /// Simplified Chinese (`zh`, `zh-CN`); the default.
    #[default]
    Zh,
    /// English (`en`).
    En,
}

impl Lang {
    /// The value of the HTML `lang` attribute: `zh-CN` or `en`.
    pub fn html_tag(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }
}

/// Error for a language code that is neither Chinese nor English.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown language {0:?}: expected \"zh\" or \"en\"")]
pub struct UnknownLang(pub String);

impl FromStr for Lang {
    type Err = UnknownLang;
    /// Accepts `zh`, `zh-CN`, `zh_CN`, `cn`, `en`, `en-US`, … (case-insensitive).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let l = s.trim().to_ascii_lowercase();
        if l == "zh" || l == "cn" || l.starts_with("zh-") || l.starts_with("zh_") {
            Ok(Lang::Zh)
        } else if l == "en" || l.starts_with("en-") || l.starts_with("en_") {
            Ok(Lang::En)
        } else {
            Err(UnknownLang(s.to_string()))
        }
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        })
    }
}

/// Every fixed string used by the charts and the page builder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)] // the variant names are the English text
pub enum Txt {
    // frame
    SourcePrefix,
    NoData,
    // (a) contributions
    ContribTitle,
    AmountAxis,
    // (b) scatter
    ScatterTitle,
    IncidenceAxis,
    PerCapitaAxis,
    OtherUnits,
    PovertyUnits,
    DeepPovertyUnits,
    // (c) projection
    ProjectionTitle,
    YearAxis,
    RemainingAxis,
    Remaining,
    TargetPath,
    Band5To95,
    // (d) grouped bars
    PlannedVsActualTitle,
    ExitsAxis,
    PlannedExits,
    ActualExits,
    PlannedVsActualCountiesTitle,
    CountyExitsAxis,
    FormulaVsActualTitle,
    FormulaAmount,
    ActualAmount,
    // (e) rates
    RatesTitleSuffix,
    MissedIdentification,
    WrongExit,
    Recognition,
    ComprehensiveIncidence,
    RateAxisSuffix,
    ConfidenceInterval,
    Threshold,
    Pass,
    Fail,
    Uncertain,
    // (f) weights
    WeightTitle,
    WeightAxis,
    Admissible,
    Stated,
    StatedOutside,
    Inferred,
    // (g) changes
    ChangeTitle,
    ChangeAxis,
    Gain,
    Loss,
    WaterfallTitleSuffix,
    Baseline,
    NewAmount,
    TotalChange,
    AxisNotFromZero,
    PartData,
    PartWeights,
    PartFloorsCaps,
    // (h) bands
    BandsTitle,
    Median,
    PublishedAmount,
    // page
    Contents,
    GeneratedBy,
}

impl Txt {
    /// The text in `lang`.
    pub fn get(self, lang: Lang) -> &'static str {
        use Txt::*;
        let (zh, en) = match self {
            SourcePrefix => ("数据来源: ", "Source: "),
            NoData => ("无数据", "No data"),
            ContribTitle => ("各单位分配额 (按因素贡献分解)", "Allocation by unit, split by factor contribution"),
            AmountAxis => ("分配额", "Amount"),
            ScatterTitle => ("人均分配额与贫困发生率", "Amount per capita against poverty incidence"),
            IncidenceAxis => ("贫困发生率 (%)", "Poverty incidence (%)"),
            PerCapitaAxis => ("人均分配额", "Amount per capita"),
            OtherUnits => ("其他单位", "Other units"),
            PovertyUnits => ("贫困县", "Poverty counties"),
            DeepPovertyUnits => ("深度贫困县", "Deep-poverty counties"),
            ProjectionTitle => ("剩余贫困人口与目标路径", "Remaining poor population against the target path"),
            YearAxis => ("年份", "Year"),
            RemainingAxis => ("剩余贫困人口", "Remaining poor population"),
            Remaining => ("剩余贫困人口 (预测)", "Remaining (projected)"),
            TargetPath => ("目标路径", "Target path"),
            Band5To95 => ("5%-95% 区间", "5%-95% band"),
            PlannedVsActualTitle => ("计划与实际脱贫人数", "Planned and actual exits"),
            ExitsAxis => ("脱贫人数", "Exits"),
            PlannedExits => ("计划", "Planned"),
            ActualExits => ("实际", "Actual"),
            PlannedVsActualCountiesTitle => ("计划与实际摘帽县数", "Planned and actual county exits"),
            CountyExitsAxis => ("摘帽县数", "County exits"),
            FormulaVsActualTitle => ("公式测算额与实际分配额", "Formula amount and actual amount"),
            FormulaAmount => ("公式测算", "Formula"),
            ActualAmount => ("实际分配", "Actual"),
            RatesTitleSuffix => ("及置信区间", "with confidence intervals"),
            MissedIdentification => ("漏评率", "Missed-identification rate"),
            WrongExit => ("错退率", "Wrong-exit rate"),
            Recognition => ("群众认可度", "Public recognition"),
            ComprehensiveIncidence => ("综合贫困发生率", "Comprehensive poverty incidence"),
            RateAxisSuffix => (" (%)", " (%)"),
            ConfidenceInterval => ("置信区间", "confidence interval"),
            Threshold => ("阈值", "Threshold"),
            Pass => ("达标", "Meets threshold"),
            Fail => ("未达标", "Fails threshold"),
            Uncertain => ("不确定 (区间跨越阈值)", "Inconclusive (interval crosses threshold)"),
            WeightTitle => (
                "因素权重: 可行范围、设定值与推断值",
                "Factor weights: admissible range, stated and inferred",
            ),
            WeightAxis => ("权重 (%)", "Weight (%)"),
            Admissible => ("可行范围", "Admissible range"),
            Stated => ("设定权重", "Stated weight"),
            StatedOutside => ("设定权重 (超出范围)", "Stated weight (outside range)"),
            Inferred => ("推断权重", "Inferred weight"),
            ChangeTitle => ("方案变化: 增加与减少的单位", "What-if: units that gain and lose"),
            ChangeAxis => ("分配额变化", "Change in amount"),
            Gain => ("增加", "Gain"),
            Loss => ("减少", "Loss"),
            WaterfallTitleSuffix => ("分配额变化分解", "change in amount, decomposed"),
            Baseline => ("原方案", "Baseline"),
            NewAmount => ("新方案", "New amount"),
            TotalChange => ("合计变化", "Total change"),
            AxisNotFromZero => ("注: 纵轴未从 0 开始", "Note: the value axis does not start at 0"),
            PartData => ("数据变化", "Data"),
            PartWeights => ("权重变化", "Weights"),
            PartFloorsCaps => ("保底/封顶", "Floors/caps"),
            BandsTitle => (
                "分配额的不确定性: 5%、50%、95% 分位数",
                "Uncertainty of the amounts: 5th, 50th and 95th percentiles",
            ),
            Median => ("中位数", "Median"),
            PublishedAmount => ("公布金额", "Published amount"),
            Contents => ("目录", "Contents"),
            GeneratedBy => ("由 fundsim 生成", "Generated by fundsim"),
        };
        match lang {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }
}

/// What an axis measures; decides its unit word and scale (see [`crate::report::format`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantity {
    /// Money in yuan (元).
    Money,
    /// Money per person (元/人).
    MoneyPerPerson,
    /// A headcount (人).
    Persons,
    /// A count of counties (个).
    Counties,
}

/// Unit word for `q` scaled down by `10^pow10` (`pow10` from [`crate::report::format::Scale`]);
/// an unknown combination falls back to the unscaled word.
pub(crate) fn quantity_unit(lang: Lang, q: Quantity, pow10: u32) -> &'static str {
    match (lang, q, pow10) {
        (Lang::Zh, Quantity::Money, 4) => "万元",
        (Lang::Zh, Quantity::Money, 8) => "亿元",
        (Lang::Zh, Quantity::Money, _) => "元",
        (Lang::Zh, Quantity::MoneyPerPerson, 4) => "万元/人",
        (Lang::Zh, Quantity::MoneyPerPerson, _) => "元/人",
        (Lang::Zh, Quantity::Persons, 4) => "万人",
        (Lang::Zh, Quantity::Persons, _) => "人",
        (Lang::Zh, Quantity::Counties, 4) => "万个",
        (Lang::Zh, Quantity::Counties, _) => "个",
        (Lang::En, Quantity::Money, 3) => "thousand yuan",
        (Lang::En, Quantity::Money, 6) => "million yuan",
        (Lang::En, Quantity::Money, 9) => "billion yuan",
        (Lang::En, Quantity::Money, _) => "yuan",
        (Lang::En, Quantity::MoneyPerPerson, 3) => "thousand yuan per person",
        (Lang::En, Quantity::MoneyPerPerson, _) => "yuan per person",
        (Lang::En, Quantity::Persons, 3) => "thousand persons",
        (Lang::En, Quantity::Persons, 6) => "million persons",
        (Lang::En, Quantity::Persons, _) => "persons",
        (Lang::En, Quantity::Counties, 3) => "thousand counties",
        (Lang::En, Quantity::Counties, _) => "counties",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_language_codes() {
        assert_eq!("zh".parse::<Lang>(), Ok(Lang::Zh));
        assert_eq!("zh-CN".parse::<Lang>(), Ok(Lang::Zh));
        assert_eq!(" EN ".parse::<Lang>(), Ok(Lang::En));
        assert!("fr".parse::<Lang>().is_err());
        assert_eq!(Lang::Zh.html_tag(), "zh-CN");
    }

    #[test]
    fn every_text_has_both_languages() {
        for t in [
            Txt::NoData,
            Txt::ContribTitle,
            Txt::Uncertain,
            Txt::PartFloorsCaps,
            Txt::PlannedVsActualCountiesTitle,
            Txt::CountyExitsAxis,
            Txt::BandsTitle,
            Txt::Median,
            Txt::PublishedAmount,
        ] {
            assert!(!t.get(Lang::Zh).is_empty());
            assert!(!t.get(Lang::En).is_empty());
            assert_ne!(t.get(Lang::Zh), t.get(Lang::En));
        }
    }
}
