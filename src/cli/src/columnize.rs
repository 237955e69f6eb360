//! ryanuber/columnize with its default config (what Consul's tables use): cells trimmed,
//! each column but the last left-aligned to its widest cell (counted in characters), columns
//! glued by two spaces, no trailing newline.

/// Formats `rows` of cells as columnize.Format does.
pub fn columnize(rows: &[Vec<String>]) -> String {
    let rows: Vec<Vec<&str>> = rows.iter().map(|r| r.iter().map(|c| c.trim()).collect()).collect();
    let mut widths: Vec<usize> = Vec::new();
    for row in &rows {
        for (i, cell) in row.iter().enumerate() {
            let n = cell.chars().count();
            match widths.get_mut(i) {
                Some(w) => *w = (*w).max(n),
                None => widths.push(n),
            }
        }
    }
    let mut out = String::new();
    for row in &rows {
        for (i, cell) in row.iter().enumerate() {
            if i + 1 == row.len() {
                out.push_str(cell);
            } else {
                out.push_str(&format!("{cell:<width$}  ", width = widths[i]));
            }
        }
        out.push('\n');
    }
    out.pop();
    out
}

#[cfg(test)]
mod tests {
    use super::columnize;

    fn row(cells: &[&str]) -> Vec<String> {
        cells.iter().map(|c| c.to_string()).collect()
    }

    #[test]
    fn pads_all_but_the_last_column() {
        let t = columnize(&[row(&["Node", "ID", "State"]), row(&["node-10", " x ", "leader"])]);
        assert_eq!(t, "Node     ID  State\nnode-10  x   leader");
    }

    #[test]
    fn widths_count_characters_and_short_rows_stay_short() {
        let t = columnize(&[row(&["é", "b"]), row(&["ab"])]);
        assert_eq!(t, "é   b\nab");
        assert_eq!(columnize(&[]), "");
    }
}
