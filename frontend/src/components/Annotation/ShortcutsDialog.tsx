import { Dialog } from "../ui/Dialog";
import styles from "./Annotation.module.css";

export interface Shortcut {
  keys: string[];
  what: string;
}

interface ShortcutsDialogProps {
  open: boolean;
  onClose: () => void;
  taskTitle: string;
  taskKeys: Shortcut[];
}

export const GENERAL_KEYS: Shortcut[] = [
  { keys: ["Enter"], what: "Submit (Ctrl/⌘ + Enter from a text field)" },
  { keys: ["s"], what: "Skip this item" },
  { keys: ["u"], what: "Flag as unusable" },
  { keys: ["x"], what: "Flag as unsafe" },
  { keys: ["r"], what: "Write a rationale" },
  { keys: ["w"], what: "Suggest a better response" },
  { keys: ["e"], what: "Extend the reservation of this item" },
  { keys: ["Esc"], what: "Leave a text field / close a panel" },
  { keys: ["g"], what: "Show or hide the guidelines" },
  { keys: ["?"], what: "This list" },
];

function ShortcutTable({ caption, rows }: { caption: string; rows: Shortcut[] }) {
  return (
    <table className={styles.keysTable}>
      <caption>{caption}</caption>
      <tbody>
        {rows.map((row) => (
          <tr key={row.what}>
            <th scope="row">
              {row.keys.map((k, i) => (
                <span key={k}>
                  {i > 0 ? <span className={styles.keysOr}> or </span> : null}
                  <kbd>{k}</kbd>
                </span>
              ))}
            </th>
            <td>{row.what}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Every keyboard shortcut of the labeling screen, opened with "?". */
export function ShortcutsDialog({ open, onClose, taskTitle, taskKeys }: ShortcutsDialogProps) {
  return (
    <Dialog open={open} title="Keyboard shortcuts" onClose={onClose} wide>
      <div className={styles.keysGrid}>
        <ShortcutTable caption={taskTitle} rows={taskKeys} />
        <ShortcutTable caption="Every task" rows={GENERAL_KEYS} />
      </div>
    </Dialog>
  );
}
