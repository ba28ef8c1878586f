import { createBrowserRouter, Outlet } from "react-router";
import { AuthProvider } from "./auth/AuthContext";
import { RequireAdmin, RequireAuth } from "./auth/RequireAuth";
import { UnauthorizedRedirect } from "./auth/UnauthorizedRedirect";
import { AppShell } from "./components/Layout/AppShell";
import { ProjectLayout } from "./components/Layout/ProjectLayout";
import { LabelPage } from "./routes/LabelPage";
import { LoginPage } from "./routes/LoginPage";
import { MyLabelsPage } from "./routes/MyLabelsPage";
import { NotFoundPage } from "./routes/NotFoundPage";
import { ProjectsPage } from "./routes/ProjectsPage";

// Manager and admin pages load on first visit, so annotators never download the charts.
const dashboard = async () => ({ Component: (await import("./routes/admin/DashboardPage")).DashboardPage });
const data = async () => ({ Component: (await import("./routes/admin/DataPage")).DataPage });
const members = async () => ({ Component: (await import("./routes/admin/MembersPage")).MembersPage });
const settings = async () => ({ Component: (await import("./routes/admin/ProjectSettingsPage")).ProjectSettingsPage });
const newProject = async () => ({ Component: (await import("./routes/admin/ProjectSettingsPage")).NewProjectPage });
const jobs = async () => ({ Component: (await import("./routes/admin/JobsPage")).JobsPage });
const launchJob = async () => ({ Component: (await import("./routes/admin/LaunchJobPage")).LaunchJobPage });
const job = async () => ({ Component: (await import("./routes/admin/JobPage")).JobPage });
const models = async () => ({ Component: (await import("./routes/admin/ModelsPage")).ModelsPage });
const users = async () => ({ Component: (await import("./routes/admin/UsersPage")).UsersPage });
const quality = async () => ({ Component: (await import("./routes/admin/QualityPage")).QualityPage });
const review = async () => ({ Component: (await import("./routes/admin/ReviewPage")).ReviewPage });
const snapshots = async () => ({ Component: (await import("./routes/admin/SnapshotsPage")).SnapshotsPage });
const datasets = async () => ({ Component: (await import("./routes/admin/DatasetsPage")).DatasetsPage });

function Root() {
  return (
    <AuthProvider>
      <UnauthorizedRedirect />
      <Outlet />
    </AuthProvider>
  );
}

export const router = createBrowserRouter([
  {
    element: <Root />,
    children: [
      { path: "/login", element: <LoginPage /> },
      {
        element: <RequireAuth />,
        children: [
          {
            element: <AppShell />,
            children: [
              { index: true, element: <ProjectsPage /> },
              { path: "projects/:projectId/label", element: <LabelPage /> },
              { path: "projects/:projectId/labels", element: <MyLabelsPage /> },
              {
                path: "projects/:projectId",
                element: <ProjectLayout />,
                children: [
                  { index: true, lazy: dashboard },
                  { path: "data", lazy: data },
                  { path: "quality", lazy: quality },
                  { path: "review", lazy: review },
                  { path: "snapshots", lazy: snapshots },
                  { path: "jobs/new", lazy: launchJob },
                  { path: "members", lazy: members },
                  { path: "settings", lazy: settings },
                ],
              },
              {
                element: <RequireAdmin />,
                children: [
                  { path: "projects/new", lazy: newProject },
                  { path: "admin/users", lazy: users },
                  { path: "datasets", lazy: datasets },
                ],
              },
              // The API decides who sees which jobs (admins: all; managers: their projects').
              { path: "jobs", lazy: jobs },
              { path: "jobs/:jobId", lazy: job },
              { path: "models", lazy: models },
              { path: "*", element: <NotFoundPage /> },
            ],
          },
        ],
      },
    ],
  },
]);
