import {
  closestCenter,
  DndContext,
  PointerSensor,
  type DragEndEvent,
  useSensor,
  useSensors,
} from "@dnd-kit/core";
import { SortableContext, useSortable, verticalListSortingStrategy } from "@dnd-kit/sortable";
import { CSS } from "@dnd-kit/utilities";
import { useLayoutEffect, useRef, useState, type KeyboardEvent } from "react";
import { flatten, moveDown, moveTo, moveUp, rankOf, toggleTie, type Tiers } from "../../annotation/ranking";
import type { CandidateView } from "../../client/types";
import { hasModifier } from "../../lib/keys";
import { Markdown } from "../Markdown/Markdown";
import styles from "./Annotation.module.css";

export const RANKING_KEYS: { keys: string[]; what: string }[] = [
  { keys: ["Tab", "1…9"], what: "Focus a response (by its position)" },
  { keys: ["k", "↑"], what: "Move the focused response up (better)" },
  { keys: ["j", "↓"], what: "Move the focused response down (worse)" },
  { keys: ["t"], what: "Tie it with the response above / undo the tie" },
];

/** Letters name candidates by their original display position, so they stay put while cards move. */
export function letterFor(index: number): string {
  return String.fromCharCode(65 + index);
}

interface RankingTaskProps {
  candidates: CandidateView[];
  tiers: Tiers;
  onChange: (tiers: Tiers) => void;
  announce: (message: string) => void;
}

/** K responses to put in order, best first, by drag and drop or by keyboard; ties allowed. */
export function RankingTask({ candidates, tiers, onChange, announce }: RankingTaskProps) {
  const byId = new Map(candidates.map((c, i) => [c.id, { candidate: c, letter: letterFor(i) }]));
  const cardRefs = useRef(new Map<number, HTMLElement>());
  const [focusAfterMove, setFocusAfterMove] = useState<number | null>(null);
  const sensors = useSensors(useSensor(PointerSensor, { activationConstraint: { distance: 4 } }));
  const flat = flatten(tiers);

  // Reordering moves DOM nodes, which can drop focus: put it back on the card that moved.
  useLayoutEffect(() => {
    if (focusAfterMove === null) return;
    const el = cardRefs.current.get(focusAfterMove);
    if (el && document.activeElement !== el) el.focus({ preventScroll: false });
    setFocusAfterMove(null);
  }, [focusAfterMove, tiers]);

  const describe = (next: Tiers, id: number) => {
    const rank = rankOf(next, id);
    const tier = next[rank - 1]!;
    const tied = tier.filter((c) => c !== id).map((c) => byId.get(c)?.letter);
    const name = `Response ${byId.get(id)?.letter}`;
    return `${name}: rank ${rank} of ${next.length}${tied.length ? `, tied with ${tied.join(", ")}` : ""}.`;
  };

  const apply = (next: Tiers, id: number) => {
    if (next === tiers) return;
    onChange(next);
    setFocusAfterMove(id);
    announce(describe(next, id));
  };

  const onCardKey = (e: KeyboardEvent<HTMLElement>, id: number) => {
    if (hasModifier(e) || e.target !== e.currentTarget) return;
    const key = e.key;
    if (key === "j" || key === "ArrowDown") apply(moveDown(tiers, id), id);
    else if (key === "k" || key === "ArrowUp") apply(moveUp(tiers, id), id);
    else if (key === "t" || key === "T") apply(toggleTie(tiers, id), id);
    else return;
    e.preventDefault();
    e.stopPropagation();
  };

  const onDragEnd = ({ active, over }: DragEndEvent) => {
    if (!over || active.id === over.id) return;
    const id = Number(active.id);
    apply(moveTo(tiers, id, flat.indexOf(Number(over.id))), id);
  };

  return (
    <section aria-labelledby="ranking-heading" className={styles.ranking}>
      <h2 id="ranking-heading" className={styles.sectionTitle}>
        Responses, best first
      </h2>
      <p id="ranking-help" className={styles.help}>
        Drag the handles, or focus a response and press <kbd>k</kbd>/<kbd>j</kbd> (or <kbd>↑</kbd>/<kbd>↓</kbd>) to
        move it, <kbd>t</kbd> to tie it with the one above.
      </p>
      <DndContext sensors={sensors} collisionDetection={closestCenter} onDragEnd={onDragEnd}>
        <SortableContext items={flat} strategy={verticalListSortingStrategy}>
          <ol className={styles.tiers} aria-label="Ranking">
            {tiers.map((tier, t) => (
              <li key={tier.join("-")} className={`${styles.tier} ${tier.length > 1 ? styles.tierTied : ""}`}>
                <span className={styles.rank} aria-hidden="true">
                  {t + 1}
                </span>
                {tier.length > 1 ? <span className={styles.tieTag}>Tie</span> : null}
                <div className={styles.tierCards}>
                  {tier.map((id) => {
                    const entry = byId.get(id);
                    if (!entry) return null;
                    return (
                      <SortableCard
                        key={id}
                        id={id}
                        letter={entry.letter}
                        text={entry.candidate.text}
                        label={describe(tiers, id)}
                        position={flat.indexOf(id) + 1}
                        onKeyDown={(e) => onCardKey(e, id)}
                        refCallback={(el) => {
                          if (el) cardRefs.current.set(id, el);
                          else cardRefs.current.delete(id);
                        }}
                      />
                    );
                  })}
                </div>
              </li>
            ))}
          </ol>
        </SortableContext>
      </DndContext>
    </section>
  );
}

interface SortableCardProps {
  id: number;
  letter: string;
  text: string;
  label: string;
  position: number;
  onKeyDown: (e: KeyboardEvent<HTMLElement>) => void;
  refCallback: (el: HTMLElement | null) => void;
}

function SortableCard({ id, letter, text, label, position, onKeyDown, refCallback }: SortableCardProps) {
  const { attributes, listeners, setNodeRef, setActivatorNodeRef, transform, transition, isDragging } = useSortable({
    id,
  });
  return (
    <article
      ref={(el) => {
        setNodeRef(el);
        refCallback(el);
      }}
      className={`${styles.rankCard} ${isDragging ? styles.dragging : ""}`}
      style={{ transform: CSS.Translate.toString(transform), transition }}
      tabIndex={0}
      aria-label={label}
      aria-describedby="ranking-help"
      data-candidate-id={id}
      data-position={position}
      onKeyDown={onKeyDown}
    >
      <header className={styles.rankCardHeader}>
        <button
          type="button"
          className={styles.handle}
          ref={setActivatorNodeRef}
          {...attributes}
          {...listeners}
          tabIndex={-1}
          aria-label={`Drag response ${letter}`}
          title="Drag to reorder"
        >
          <svg width="14" height="14" viewBox="0 0 14 14" aria-hidden="true">
            <circle cx="4.5" cy="3" r="1.2" />
            <circle cx="9.5" cy="3" r="1.2" />
            <circle cx="4.5" cy="7" r="1.2" />
            <circle cx="9.5" cy="7" r="1.2" />
            <circle cx="4.5" cy="11" r="1.2" />
            <circle cx="9.5" cy="11" r="1.2" />
          </svg>
        </button>
        <h3 className={styles.responseTitle}>Response {letter}</h3>
        <span className={styles.positionKey} aria-hidden="true">
          <kbd>{position}</kbd>
        </span>
      </header>
      <div className={styles.rankCardBody}>
        <Markdown>{text}</Markdown>
      </div>
    </article>
  );
}
