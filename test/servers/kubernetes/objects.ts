/**
 * The shapes of the objects the stand-in keeps, as far as it reads or
 * writes them. One loose shape serves pods, secrets and quotas, as the API
 * server's storage does; a client's other fields are kept as sent.
 */

export type Quantity = string | number;

export interface OwnerReference {
  readonly uid: string;
  readonly [field: string]: unknown;
}

export interface ObjectMeta {
  name: string;
  namespace: string;
  uid: string;
  resourceVersion: string;
  creationTimestamp: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
}

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string }; fieldRef?: { fieldPath: string } };
}

export interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  workingDir?: string;
  env?: EnvVar[];
  volumeMounts?: { name: string; mountPath: string }[];
  resources?: { requests?: Record<string, Quantity> };
}

export interface Volume {
  name: string;
  secret?: { secretName: string; items?: { key: string; path: string }[]; defaultMode?: number };
}

export interface ContainerState {
  waiting?: { reason: string };
  running?: { startedAt: string };
  terminated?: { exitCode: number; reason: string; startedAt: string; finishedAt: string };
}

export interface ContainerStatus {
  name: string;
  image: string;
  ready: boolean;
  restartCount: number;
  started?: boolean;
  state: ContainerState;
}

export type PodPhase = "Pending" | "Running" | "Succeeded" | "Failed";

export interface ObjectSpec {
  containers?: Container[];
  volumes?: Volume[];
  nodeName?: string;
  activeDeadlineSeconds?: number;
  restartPolicy?: string;
  /** A ResourceQuota's limits. */
  hard?: Record<string, Quantity>;
}

export interface ObjectStatus {
  phase?: PodPhase;
  conditions?: { type: string; status: string; reason?: string }[];
  startTime?: string;
  containerStatuses?: ContainerStatus[];
  reason?: string;
  /** The stand-in's own count of failed image pulls. */
  pullAttempts?: number;
  /** A ResourceQuota's limits and use. */
  hard?: Record<string, Quantity>;
  used?: Record<string, string>;
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec?: ObjectSpec;
  status?: ObjectStatus;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

/** What a client sends to create an object: the server fills in the rest of the metadata. */
export interface NewObject {
  metadata: Partial<ObjectMeta> & { name: string };
  spec?: ObjectSpec;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

/** A pod the kubelet runs: admitted, so its spec has a container and its status a phase. */
export interface Pod extends KubeObject {
  spec: ObjectSpec & { containers: [Container, ...Container[]] };
  status: ObjectStatus & { phase: PodPhase };
}

/** A Role's rules, as the site's role.yaml grants them. */
export interface RoleRule {
  apiGroups?: string[];
  resources?: string[];
  verbs?: string[];
}

/** A manifest of etc/kubernetes/ as the tests read it. */
export interface SiteManifest {
  metadata: { name: string; namespace?: string };
  spec?: ObjectSpec;
  rules?: RoleRule[];
}
