import type { ItemAgreement } from "../../client/types";
import { formatNumber } from "../../lib/format";
import { formatMetric } from "../../quality/format";
import styles from "./Quality.module.css";

interface DisagreementListProps {
  items: ItemAgreement[];
  selectedId: number | null;
  onSelect: (itemId: number) => void;
}

/** The review queue: one button per item, lowest agreement as the API orders them. */
export function DisagreementList({ items, selectedId, onSelect }: DisagreementListProps) {
  return (
    <ul className={styles.itemList} aria-label="Items to review">
      {items.map((item) => (
        <li key={item.item_id}>
          <button
            type="button"
            className={styles.itemButton}
            aria-current={item.item_id === selectedId ? "true" : undefined}
            onClick={() => onSelect(item.item_id)}
          >
            <span className={styles.itemTitle}>Item #{item.item_id}</span>
            <span className={styles.itemAgreement}>
              <span className="visually-hidden">agreement </span>
              {formatMetric(item.agreement)}
            </span>
            <span className={styles.itemMeta}>
              prompt #{item.prompt_id} · {formatNumber(item.labels)} labels
              {item.adjudicated ? " · decided" : ""}
            </span>
          </button>
        </li>
      ))}
    </ul>
  );
}
