import '@servicenow/sdk/global';

declare global {
  namespace Now {
    namespace Internal {
      interface Keys extends KeysRegistry {
        explicit: {
          bom_json: {
            table: 'sys_module';
            id: 'e27ddaf3bf7d4a9b94211986eeb33268';
          };
          exalate_api: {
            table: 'sys_ws_definition';
            id: 'e7a8a7df9af742d6984a3fd31b61ee81';
          };
          exalate_api_include: {
            table: 'sys_script_include';
            id: 'a9c90ee40b96497c886360cec8a9da5b';
          };
          exalate_menu: {
            table: 'sys_app_application';
            id: '79da4c711649401f9aa7da71a925688a';
          };
          exalate_rest_acl: {
            table: 'sys_security_acl';
            id: '8489c09330924651a12e30ab302fc3b2';
          };
          module_connections: {
            table: 'sys_app_module';
            id: '37901156c8aa4282ba05db4f645d3ab3';
          };
          module_queue: {
            table: 'sys_app_module';
            id: '7f1a3df7c6564f7ca814b0a853b80fed';
          };
          module_settings: {
            table: 'sys_app_module';
            id: '9eed14e1a8b240c585450c967302b497';
          };
          package_json: {
            table: 'sys_module';
            id: '804f2d01875d435eb98758851a543caa';
          };
          route_node_delete: {
            table: 'sys_ws_operation';
            id: '2eeea4e6b170411abae2de94b9c52717';
          };
          route_node_get: {
            table: 'sys_ws_operation';
            id: 'c9fac79fa6384c8cb2fcf38b2d140755';
          };
          route_node_path: {
            table: 'sys_ws_query_parameter';
            id: '327689636e11445a828db3a64f8bd81b';
          };
          route_node_post: {
            table: 'sys_ws_operation';
            id: '2cd09b9ce9304ae0b426f444b6914426';
          };
          route_node_put: {
            table: 'sys_ws_operation';
            id: '248f0dab2bbb4c2f9d5b050f174eb515';
          };
          route_pair: {
            table: 'sys_ws_operation';
            id: '0a6aeb43ec1e4961a819be260605a2c5';
          };
          route_published_node: {
            table: 'sys_ws_operation';
            id: '0d8fd64274d64ae98e1de20c0339bd3c';
          };
          route_settings: {
            table: 'sys_ws_operation';
            id: 'a7accf8c1054427d8b4396da1067510c';
          };
          setting_read: {
            table: 'sys_security_acl';
            id: '15d645166ae34439bcfc46a611926344';
          };
        };
        composite: [
          {
            table: 'sys_dictionary';
            id: '190a39b6f900469a9376c6551a26bf53';
            key: {
              name: 'x_exalate_sync_setting';
              element: 'secret';
            };
          },
          {
            table: 'sn_glider_source_artifact_m2m';
            id: '2138b646d714428c9bbd1e4a081ba782';
            key: {
              application_file: '5aa9278865e54927955fc025b84c3da9';
              source_artifact: 'f4d13a06b555400d95d51653c4356890';
            };
          },
          {
            table: 'sys_documentation';
            id: '217d8038d24948b293a630eaf5c55dda';
            key: {
              name: 'x_exalate_sync_setting';
              element: 'NULL';
              language: 'en';
            };
          },
          {
            table: 'sys_security_acl_role';
            id: '4407039d4ff94067b008ea20f80c9899';
            key: {
              sys_security_acl: '8489c09330924651a12e30ab302fc3b2';
              sys_user_role: {
                id: 'd13cf9b32f4a414cbba73b8570b3a769';
                key: {
                  name: 'x_exalate_sync.admin';
                };
              };
            };
          },
          {
            table: 'sys_ux_lib_asset';
            id: '500f2a5ee447454d9f75211cc3c183a4';
            key: {
              name: 'x_exalate_sync/main';
            };
          },
          {
            table: 'sys_ws_query_parameter_map';
            id: '525149110d014d7f965de363519d1bbc';
            key: {
              web_service_operation: 'c9fac79fa6384c8cb2fcf38b2d140755';
              web_service_query_parameter: '327689636e11445a828db3a64f8bd81b';
            };
          },
          {
            table: 'sys_ui_page';
            id: '5947fbd864b14495b6beef260d7cea05';
            key: {
              endpoint: 'x_exalate_sync_exalate.do';
            };
          },
          {
            table: 'sys_ux_lib_asset';
            id: '5aa9278865e54927955fc025b84c3da9';
            key: {
              name: 'x_exalate_sync/main.js.map';
            };
          },
          {
            table: 'sn_glider_source_artifact_m2m';
            id: '5fa67f3a6ab84b92abe5b11790cbc7bf';
            key: {
              application_file: '500f2a5ee447454d9f75211cc3c183a4';
              source_artifact: 'f4d13a06b555400d95d51653c4356890';
            };
          },
          {
            table: 'sys_documentation';
            id: '68e6c18e6cb44b2ea886aecceb5e1cb1';
            key: {
              name: 'x_exalate_sync_setting';
              element: 'secret';
              language: 'en';
            };
          },
          {
            table: 'sys_dictionary';
            id: '8bcac344471043ae96ccb17b1a790130';
            key: {
              name: 'x_exalate_sync_setting';
              element: 'value';
            };
          },
          {
            table: 'sys_dictionary';
            id: 'b06f6bc00b144eb886128d080da2ece3';
            key: {
              name: 'x_exalate_sync_setting';
              element: 'name';
            };
          },
          {
            table: 'sys_documentation';
            id: 'c3c79c69c34e4e99b344f655a962a8d1';
            key: {
              name: 'x_exalate_sync_setting';
              element: 'value';
              language: 'en';
            };
          },
          {
            table: 'sys_user_role';
            id: 'd13cf9b32f4a414cbba73b8570b3a769';
            key: {
              name: 'x_exalate_sync.admin';
            };
          },
          {
            table: 'sys_security_acl_role';
            id: 'd16a93c1f28044beb2a9c1e6b342b09b';
            key: {
              sys_security_acl: '15d645166ae34439bcfc46a611926344';
              sys_user_role: {
                id: 'd13cf9b32f4a414cbba73b8570b3a769';
                key: {
                  name: 'x_exalate_sync.admin';
                };
              };
            };
          },
          {
            table: 'sys_documentation';
            id: 'd2d4d0676fc440779f09df76c74c11d4';
            key: {
              name: 'x_exalate_sync_setting';
              element: 'name';
              language: 'en';
            };
          },
          {
            table: 'sys_user_role_contains';
            id: 'ddfcbd2eba6644bbab9b272c71943afb';
            key: {
              role: {
                id: '2831a114c611228501d4ea6c309d626d';
                key: {
                  name: 'admin';
                };
              };
              contains: {
                id: 'd13cf9b32f4a414cbba73b8570b3a769';
                key: {
                  name: 'x_exalate_sync.admin';
                };
              };
            };
          },
          {
            table: 'sn_glider_source_artifact';
            id: 'f4d13a06b555400d95d51653c4356890';
            key: {
              name: 'x_exalate_sync_exalate.do - BYOUI Files';
            };
          },
          {
            table: 'ua_table_licensing_config';
            id: 'f55faf78fc9049099c04f0604e8f9d2c';
            key: {
              name: 'x_exalate_sync_setting';
            };
          },
          {
            table: 'sys_db_object';
            id: 'f77c85ce08d8461fa5b0929a73dcf170';
            key: {
              name: 'x_exalate_sync_setting';
            };
          },
          {
            table: 'sn_glider_source_artifact_m2m';
            id: 'f7b8fd8a7140409bba3d3909a69ab478';
            key: {
              application_file: '5947fbd864b14495b6beef260d7cea05';
              source_artifact: 'f4d13a06b555400d95d51653c4356890';
            };
          },
          {
            table: 'sys_dictionary';
            id: 'f96bcb7a6ed847dd970cb47e636be96b';
            key: {
              name: 'x_exalate_sync_setting';
              element: 'NULL';
            };
          },
        ];
      }
    }
  }
}
