import { useState, type FormEvent } from "react";
import type { Project, ProjectCreate, ProjectUpdate, TaskKind } from "../../client/types";
import { formatDuration } from "../../lib/format";
import { Segmented } from "../ui/Segmented";
import styles from "./Admin.module.css";
import { CriteriaEditor, criterionDraft, toCriterion, type CriterionDraft } from "./CriteriaEditor";
import { GuidelinesEditor } from "./GuidelinesEditor";

type Grouping = ProjectCreate["grouping"];

interface Values {
  name: string;
  taskKind: TaskKind;
  k: string;
  overlap: string;
  leaseSeconds: string;
  goldPercent: string;
  grouping: NonNullable<Grouping>;
  maxItemsPerPrompt: string;
  guidelines: string;
  criteria: CriterionDraft[];
  archived: boolean;
}

function initialValues(project: Project | null): Values {
  return {
    name: project?.name ?? "",
    taskKind: project?.task_kind ?? "pairwise",
    k: String(project?.candidates_per_item ?? 4),
    overlap: String(project?.overlap ?? 1),
    leaseSeconds: String(project?.lease_seconds ?? 900),
    goldPercent: String(Math.round((project?.gold_ratio ?? 0) * 1000) / 10),
    grouping: project?.grouping ?? "all",
    maxItemsPerPrompt: String(project?.max_items_per_prompt ?? 10),
    guidelines: project?.guidelines ?? "",
    criteria: project?.criteria.length
      ? project.criteria.map((c) => criterionDraft(c))
      : [criterionDraft({ name: "overall", description: "Overall quality of the response.", min: 1, max: 5, labels: null, weight: 1 })],
    archived: project?.archived ?? false,
  };
}

export function toCreate(v: Values): ProjectCreate {
  const body: ProjectCreate = {
    name: v.name.trim(),
    task_kind: v.taskKind,
    overlap: Number(v.overlap),
    lease_seconds: Number(v.leaseSeconds),
    gold_ratio: Number(v.goldPercent) / 100,
    guidelines: v.guidelines,
    grouping: v.grouping,
    max_items_per_prompt: Number(v.maxItemsPerPrompt),
  };
  if (v.taskKind === "ranking") body.candidates_per_item = Number(v.k);
  if (v.taskKind === "rating") body.criteria = v.criteria.map(toCriterion);
  return body;
}

export function toUpdate(v: Values, kind: TaskKind): ProjectUpdate {
  const body: ProjectUpdate = {
    name: v.name.trim(),
    overlap: Number(v.overlap),
    lease_seconds: Number(v.leaseSeconds),
    gold_ratio: Number(v.goldPercent) / 100,
    guidelines: v.guidelines,
    archived: v.archived,
  };
  if (kind === "rating") body.criteria = v.criteria.map(toCriterion);
  return body;
}

interface ProjectFormProps {
  project: Project | null;
  submitLabel: string;
  onSave: (create: ProjectCreate, update: ProjectUpdate) => Promise<void>;
}

/** Create or edit a project. Kind, K and grouping are fixed once the project exists. */
export function ProjectForm({ project, submitLabel, onSave }: ProjectFormProps) {
  const [v, setV] = useState<Values>(() => initialValues(project));
  const [busy, setBusy] = useState(false);
  const set = (patch: Partial<Values>) => setV((old) => ({ ...old, ...patch }));
  const creating = project === null;
  const kind = project?.task_kind ?? v.taskKind;
  const lease = Number(v.leaseSeconds);

  const onSubmit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    try {
      await onSave(toCreate(v), toUpdate(v, kind));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className={styles.projectForm} onSubmit={onSubmit} aria-label={creating ? "New project" : "Project settings"}>
      <div className="field">
        <label htmlFor="project-name">Name</label>
        <input id="project-name" required maxLength={200} value={v.name} onChange={(e) => set({ name: e.target.value })} />
      </div>

      {creating ? (
        <Segmented<TaskKind>
          name="task_kind"
          legend="Task"
          value={v.taskKind}
          onChange={(taskKind) => set({ taskKind, grouping: taskKind !== "pairwise" && v.grouping === "anchor" ? "all" : v.grouping })}
          options={[
            { value: "pairwise", label: "Pairwise: A or B" },
            { value: "ranking", label: "Ranking: order K" },
            { value: "rating", label: "Rating: rubric scores" },
          ]}
        />
      ) : null}

      <div className={styles.formGrid}>
        {kind === "ranking" ? (
          <div className="field">
            <label htmlFor="project-k">Responses per item (K)</label>
            <input
              id="project-k"
              type="number"
              min={3}
              max={10}
              disabled={!creating}
              value={v.k}
              onChange={(e) => set({ k: e.target.value })}
            />
            <p className="help">{creating ? "3 to 10." : "Fixed once the project exists."}</p>
          </div>
        ) : null}
        <div className="field">
          <label htmlFor="project-overlap">Overlap</label>
          <input id="project-overlap" type="number" min={1} max={50} value={v.overlap} onChange={(e) => set({ overlap: e.target.value })} />
          <p className="help">Different annotators per item.</p>
        </div>
        <div className="field">
          <label htmlFor="project-lease">Lease (seconds)</label>
          <input
            id="project-lease"
            type="number"
            min={30}
            max={604800}
            value={v.leaseSeconds}
            onChange={(e) => set({ leaseSeconds: e.target.value })}
          />
          <p className="help">{Number.isFinite(lease) && lease > 0 ? `${formatDuration(lease)} to label an item.` : "How long an item stays reserved."}</p>
        </div>
        <div className="field">
          <label htmlFor="project-gold">Gold items (%)</label>
          <input
            id="project-gold"
            type="number"
            min={0}
            max={50}
            step={0.5}
            value={v.goldPercent}
            onChange={(e) => set({ goldPercent: e.target.value })}
          />
          <p className="help">Share of picks that are gold checks (0–50).</p>
        </div>
        {creating ? (
          <>
            <div className="field">
              <label htmlFor="project-grouping">Item grouping</label>
              <select id="project-grouping" value={v.grouping} onChange={(e) => set({ grouping: e.target.value as Values["grouping"] })}>
                <option value="all">All combinations</option>
                <option value="disjoint">Disjoint groups</option>
                {v.taskKind === "pairwise" ? <option value="anchor">Each against the first (anchor)</option> : null}
              </select>
              <p className="help">How a prompt’s responses become items.</p>
            </div>
            <div className="field">
              <label htmlFor="project-max-items">Max items per prompt</label>
              <input
                id="project-max-items"
                type="number"
                min={1}
                max={1000}
                value={v.maxItemsPerPrompt}
                onChange={(e) => set({ maxItemsPerPrompt: e.target.value })}
              />
            </div>
          </>
        ) : null}
      </div>

      {kind === "rating" ? <CriteriaEditor value={v.criteria} onChange={(criteria) => set({ criteria })} /> : null}

      <div className="field">
        <span className="label" id="guidelines-label">
          Guidelines
        </span>
        <p className="help">Markdown. Annotators open them with the <kbd>g</kbd> key.</p>
        <GuidelinesEditor value={v.guidelines} onChange={(guidelines) => set({ guidelines })} />
      </div>

      {!creating ? (
        <label className="checkbox">
          <input type="checkbox" checked={v.archived} onChange={(e) => set({ archived: e.target.checked })} />
          Archived (no new items are handed out)
        </label>
      ) : null}

      <div className={styles.formActions}>
        <button type="submit" className="btn btn-primary" disabled={busy}>
          {busy ? "Saving…" : submitLabel}
        </button>
      </div>
    </form>
  );
}
