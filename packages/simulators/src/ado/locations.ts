/**
 * The API resource locations the simulator serves. The official client (azure-devops-node-api)
 * finds every route by asking `OPTIONS {org}/_apis/{area}` for these and filling in the route
 * template, so the ids must be the service's own. They are the ones the client's generated code
 * asks for (WorkItemTrackingApi, CoreApi, LocationsApi).
 */
export interface ApiResourceLocation {
  id: string;
  area: string;
  resourceName: string;
  routeTemplate: string;
  resourceVersion: number;
  minVersion: string;
  maxVersion: string;
  releasedVersion: string;
}

export const MAX_API_VERSION = '7.2';

const loc = (area: string, id: string, resourceName: string, routeTemplate: string, released: boolean, resourceVersion = 4): ApiResourceLocation => ({
  id,
  area,
  resourceName,
  routeTemplate,
  resourceVersion,
  minVersion: '1.0',
  maxVersion: MAX_API_VERSION,
  releasedVersion: released ? '7.1' : '0.0',
});

export const RESOURCE_AREAS = [
  { id: 'e81700f7-3be2-46de-8624-2eb35882fcaa', name: 'Location' },
  { id: '79134c72-4a58-4b42-976c-04e7115f32bf', name: 'core' },
  { id: '5264459e-e5e0-4bd8-b118-0985e68a4ec5', name: 'wit' },
];

export const LOCATIONS: ApiResourceLocation[] = [
  loc('Location', 'e81700f7-3be2-46de-8624-2eb35882fcaa', 'ResourceAreas', '_apis/{resource}/{areaId}', false, 1),
  loc('core', '603fe2ac-9723-48b9-88ad-09305aa6c6e1', 'projects', '_apis/{resource}/{*projectId}', true),
  loc('wit', '72c7ddf8-2cdc-4f60-90cd-ab71c14a399b', 'workItems', '{project}/_apis/{area}/{resource}/{id}', true, 3),
  loc('wit', '62d3d110-0047-428c-ad3c-4fe872c91c74', 'workItems', '{project}/_apis/{area}/{resource}/${type}', true, 3),
  loc('wit', '908509b6-4248-4475-a1cd-829139ba419f', 'workItemsBatch', '{project}/_apis/{area}/{resource}', true, 1),
  loc('wit', '1a9c53f7-f243-4447-b110-35ef023636e4', 'wiql', '{project}/{team}/_apis/{area}/{resource}/{id}', true, 2),
  loc('wit', '608aac0a-32e1-4493-a863-b9cf4566d257', 'comments', '{project}/_apis/{area}/workItems/{workItemId}/{resource}/{commentId}', false, 4),
  loc('wit', 'e07b5fa4-1499-494d-a496-64b860fd64ff', 'attachments', '{project}/_apis/{area}/{resource}/{id}', true, 3),
  loc('wit', '6570bf97-d02c-4a91-8d93-3abe9895b1a9', 'updates', '{project}/_apis/{area}/workItems/{id}/{resource}/{updateNumber}', true, 3),
  loc('wit', 'a00c85a5-80fa-4565-99c3-bcd2181434bb', 'revisions', '{project}/_apis/{area}/workItems/{id}/{resource}/{revisionNumber}', true, 3),
  loc('wit', '7c8d7a76-4a09-43e8-b5df-bd792f4ac6aa', 'workItemTypes', '{project}/_apis/{area}/{resource}/{type}', true, 2),
  loc('wit', 'b51fd764-e5c2-4b9b-aaf7-3395cf4bdd94', 'fields', '{project}/_apis/{area}/{resource}/{fieldNameOrRefName}', true, 2),
];
