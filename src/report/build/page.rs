//! Assembles `index.html` from the steps' sections: tables cut to `max_table_rows` with a link
//! to the full CSV, charts inlined as SVG with links to their SVG and PNG files.

use super::{ChartSpec, Ctx, Item, Rendered, Step, StepOutput};
use crate::report::html::{Page, Table};
use crate::report::{Lang, ReportError};

/// The page, in the report's language.
pub(super) fn render(
    ctx: &Ctx<'_>,
    outputs: &[(&'static Step, StepOutput)],
    skipped: &[(&'static str, String)],
    charts: &[ChartSpec],
    rendered: &[Rendered],
) -> Result<String, ReportError> {
    let s = ctx.scenario;
    let lang = ctx.lang;
    let mut page = Page::new(lang, s.title.clone());
    let mut sub = s.name.clone();
    if let Some(y) = s.year {
        sub.push_str(&match lang {
            Lang::Zh => format!(" · {y}年"),
            Lang::En => format!(" · {y}"),
        });
    }
    sub.push_str(ctx.tr(" · 因素法分配报告", " · factor-method allocation report"));
    page.subtitle(sub);
    page.footer(format!("fundsim {} · {}", env!("CARGO_PKG_VERSION"), s.name));
    let max_rows = ctx.config.max_table_rows;
    let mut figure = 0usize;
    for (_, out) in outputs {
        for sec in &out.sections {
            let section = page.section(&sec.id, sec.title.clone());
            for item in &sec.items {
                match item {
                    Item::Block(b) => {
                        section.push(b.clone());
                    }
                    Item::Table { table, csv } => {
                        let total = table.rows.len();
                        // only a table whose full data is in a CSV file is cut
                        if total > max_rows && csv.is_some() {
                            section.table(Table {
                                caption: table.caption.clone(),
                                header: table.header.clone(),
                                rows: table.rows.iter().take(max_rows).cloned().collect(),
                            });
                            section.note(match lang {
                                Lang::Zh => format!("表中只列出前 {max_rows} 行（共 {total} 行）。"),
                                Lang::En => format!("Only the first {max_rows} of {total} rows are shown."),
                            });
                            if let Some(csv) = csv {
                                section.links(vec![(
                                    match lang {
                                        Lang::Zh => format!("完整数据：{csv}"),
                                        Lang::En => format!("Full data: {csv}"),
                                    },
                                    csv.clone(),
                                )]);
                            }
                        } else {
                            section.table(table.clone());
                        }
                    }
                    Item::Chart(stem) => {
                        let Some((spec, r)) = charts.iter().zip(rendered).find(|(c, _)| &c.stem == stem) else {
                            continue;
                        };
                        figure += 1;
                        let caption = match lang {
                            Lang::Zh => format!("图{figure}　{}", spec.caption),
                            Lang::En => format!("Figure {figure}. {}", spec.caption),
                        };
                        section.svg(caption, &r.svg)?;
                        section.links(vec![
                            (ctx.tr("下载 SVG", "SVG file").to_string(), format!("charts/{}.svg", spec.stem)),
                            (ctx.tr("下载 PNG", "PNG file").to_string(), format!("charts/{}.png", spec.stem)),
                        ]);
                    }
                }
            }
            if sec.id == "summary" {
                let findings: Vec<String> = outputs.iter().flat_map(|(_, o)| o.highlights.iter().cloned()).collect();
                if !findings.is_empty() {
                    section.paragraph(ctx.tr("主要发现：", "Key findings:"));
                    section.list(findings);
                }
                let ran: Vec<&str> = outputs.iter().map(|(st, _)| st.title(lang)).collect();
                let mut items = vec![match lang {
                    Lang::Zh => format!("本报告包含：{}。", ran.join("、")),
                    Lang::En => format!("This report contains: {}.", ran.join(", ")),
                }];
                for (id, reason) in skipped {
                    let title = super::STEPS.iter().find(|st| st.id == *id).map(|st| st.title(lang)).unwrap_or(id);
                    items.push(match lang {
                        Lang::Zh => format!("未包含{title}：{reason}。"),
                        Lang::En => format!("Not included, {title}: {reason}."),
                    });
                }
                section.list(items);
                let mut links: Vec<(String, String)> = outputs
                    .iter()
                    .flat_map(|(_, o)| o.tables.iter())
                    .map(|t| (t.name.clone(), t.name.clone()))
                    .collect();
                links.push((
                    ctx.tr("工作簿 workbook.xlsx", "Workbook: workbook.xlsx").into(),
                    "workbook.xlsx".into(),
                ));
                section.links(links);
            }
        }
    }
    Ok(page.render())
}
