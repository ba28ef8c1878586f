// Query keys shared by pages, so a change in one place refreshes the others.
export const projectKey = (id: number) => ["project", id] as const;
export const projectsKey = ["projects"] as const;
export const progressKey = (id: number) => ["progress", "project", id] as const;
export const annotatorsKey = (id: number) => ["progress", "annotators", id] as const;
export const membersKey = (id: number) => ["members", id] as const;
export const usersKey = ["users"] as const;
export const promptsKey = (id: number) => ["prompts", id] as const;
export const jobsKey = (state: string) => ["jobs", state] as const;
export const jobKey = (id: number) => ["job", id] as const;
export const modelsKey = ["models"] as const;
