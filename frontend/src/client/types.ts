// Named aliases for the generated OpenAPI schema types (schema.d.ts is generated: `npm run gen:api`).
import type { components } from "./schema";

type S = components["schemas"];

export type Me = S["Me"];
export type UserRead = S["UserRead"];
export type UserCreate = S["UserCreate"];
export type Project = S["ProjectRead"];
export type ProjectCreate = S["ProjectCreate"];
export type ProjectUpdate = S["ProjectUpdate"];
export type Criterion = S["Criterion"];
export type TaskKind = Project["task_kind"];
export type ProjectRole = NonNullable<Project["my_role"]>;
export type Member = S["MemberRead"];
export type Assignment = S["AssignmentRead"];
export type ItemView = S["ItemView"];
export type PromptView = S["PromptView"];
export type CandidateView = S["CandidateView"];
export type LabelSubmit = S["LabelSubmit"];
export type LabelRead = S["LabelRead"];
export type ProjectProgress = S["ProjectProgress"];
export type AnnotatorProgress = S["AnnotatorProgress"];
export type ErrorBody = S["ErrorBody"];
export type Job = S["JobRead"];
export type JobState = S["JobState"];
export type JobKind = S["JobKind"];
export type MetricSeries = S["MetricSeries"];
export type LogLine = S["LogLine"];
export type ModelVersion = S["ModelVersionRead"];
export type ImportReport = S["ImportReport"];
export type ImportFormat = S["ImportFormat"];
export type PromptRead = S["PromptRead"];
